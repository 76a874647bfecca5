package replica

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/timely"
)

// Launcher starts the runtime of one incarnation of a replica and returns
// its PID: a spawn in this actor system, or a remote spawn on another
// node. It is called from a goroutine the ReplicaState owns, with a
// context that is canceled when the ReplicaState stops or moves on to
// another incarnation; it must return promptly then. The returned runtime
// belongs to the ReplicaState, which stops it when the replica is removed
// or replaced.
type Launcher interface {
	Launch(ctx context.Context, replica timely.ReplicaId, incarnation uint64) (*actor.PID, error)
}

// LauncherFunc adapts a function to Launcher.
type LauncherFunc func(ctx context.Context, replica timely.ReplicaId, incarnation uint64) (*actor.PID, error)

// Launch implements Launcher.
func (f LauncherFunc) Launch(ctx context.Context, replica timely.ReplicaId, incarnation uint64) (*actor.PID, error) {
	return f(ctx, replica, incarnation)
}
