package node

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/etcd"
	"github.com/arbor-db/arbor/persistence/pebble"
)

// The node's storage: the storage actor, spawned as the "storage"
// subsystem, over its own Pebble store under <data-dir>/storage (apart from
// the catalog's, so each has one writer), or over etcd with --storage,
// shared by the environments of successive deploy generations (deploy.go). The node owns the store and
// closes it after the actor stopped.

// storageCompactionWindow is the history, in timestamp units
// (milliseconds), a table keeps behind its upper when no read hold asks
// for more.
const storageCompactionWindow = 60_000

// storageStartTimeout bounds the storage actor's first answer: it opens
// every table shard before it reads a message.
const storageStartTimeout = 30 * time.Second

// storageRemoteTypes are what other nodes may send the storage actor: the
// reads, change data and read holds replica runtimes placed on them need.
// Writes and DDL come from this node's environment only.
var storageRemoteTypes = []proto.Message{
	&messages.StorageFrontiers{},
	&messages.StorageSnapshot{},
	&messages.StorageReadRange{},
	&messages.StorageSubscribe{},
	&messages.StorageUnsubscribe{},
	&messages.StorageAcquireReadHold{},
	&messages.StorageDowngradeReadHold{},
	&messages.StorageReleaseReadHold{},
	// Replica runtimes on other nodes append their materialized views'
	// output to the views' storage collections.
	&messages.StorageAppend{},
}

// nodeStorage is what the node holds for its storage.
type nodeStorage struct {
	store persistence.Store
	pid   *actor.PID
}

// startStorage opens the store, spawns the storage actor and waits for its
// first answer, which comes only once it has recovered every table.
func (n *Node) startStorage() error {
	dir := filepath.Join(n.cfg.DataDir, SubsystemStorage)
	s := &nodeStorage{}
	n.storage = s
	spec, err := parseStorageSpec(n.cfg.Storage)
	if err != nil {
		return err
	}
	if spec.Endpoints == nil {
		if s.store, err = pebble.Open(dir); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
	} else {
		dir = fmt.Sprintf("etcd %s%s", strings.Join(spec.Endpoints, ","), spec.Prefix)
		ctx, cancel := context.WithTimeout(context.Background(), storageStartTimeout)
		s.store, err = etcd.Dial(ctx, spec.Endpoints, spec.Prefix)
		cancel()
		if err != nil {
			return fmt.Errorf("storage: %w", err) // etcd's error names the endpoints
		}
	}
	scfg := storage.Config{
		Store: s.store, Clock: n.clock, Registerer: n.metrics.registry, Logger: n.logger,
		// Keep a minute of history behind the upper: AS OF reads within
		// it work, and a dataflow created at a table's since is not
		// compacted under before the instance's read hold on it reaches
		// storage (the environment applies those holds asynchronously).
		CompactionWindow: storageCompactionWindow,
	}
	// Shared storage (deploy.go): fenced by the catalog's token, or
	// read-only until promotion.
	if spec.Endpoints != nil {
		scfg.OnFenced = n.halt
		if n.cfg.ReadOnly {
			scfg.ReadOnly = true
		} else {
			tok := n.catalog.token
			scfg.Fence = &tok
		}
	}
	props, err := storage.New(scfg)
	if err != nil {
		return err
	}
	allow, err := surface.AllowRemote(surface.AllowConfig{
		Actor: SubsystemStorage, Types: storageRemoteTypes,
		Logger: n.logger.With("actor", SubsystemStorage), Registerer: n.metrics.registry,
	})
	if err != nil {
		return err
	}
	if s.pid, err = n.spawnSubsystem(SubsystemStorage, props.Configure(actor.WithReceiverMiddleware(allow))); err != nil {
		return err
	}
	res, err := n.system.Root.RequestFuture(s.pid, &messages.StorageFrontiers{}, storageStartTimeout).Result()
	if err != nil {
		return fmt.Errorf("storage under %s did not start: %w", dir, err)
	}
	if healthy, detail, ok := judgeStorageFrontiers(res); !ok || !healthy {
		return fmt.Errorf("storage under %s did not start: %s (answer %T)", dir, detail, res)
	}
	n.logger.Info("storage open", "dir", dir)
	return nil
}

// storageProbe probes the storage actor with StorageFrontiers: it answers
// once it has opened its shards, and not at all while a shard call blocks
// its Receive.
func storageProbe(pid *actor.PID) probeTarget {
	return probeTarget{name: SubsystemStorage, pid: pid, request: &messages.StorageFrontiers{}, judge: judgeStorageFrontiers}
}

func judgeStorageFrontiers(answer any) (bool, string, bool) {
	r, ok := answer.(*messages.StorageFrontiersResponse)
	switch {
	case !ok:
		return false, "", false
	case r.GetError() != nil:
		return false, r.GetError().GetMessage(), true
	}
	return true, "", true
}

// closeStorage closes the storage store; the actor has stopped before.
func (n *Node) closeStorage() {
	if n.storage == nil || n.storage.store == nil {
		return
	}
	if err := n.storage.store.Close(); err != nil {
		n.logger.Warn("closing the storage store", "err", err)
	}
}
