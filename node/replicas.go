package node

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/surface"
)

// The replicas host is the "replicas" subsystem: the parent of every
// replica runtime this node runs. It spawns a runtime when a launcher asks
// and stops one that fails instead of restarting it: a restarted runtime
// keeps its PID, so its ReplicaState would never learn that the runtime lost
// its flows. Stopped, the runtime's ReplicaState sees it terminate and its
// instance's restart tracker decides when to launch a new incarnation (one
// restart policy, not two stacked).
//
// Its messages are local Go structs; it accepts nothing from remote senders.

// spawnRuntime asks the host to spawn a runtime; the host puts its PID on
// spawned (buffered, so the host never blocks). A channel rather than a
// future: the launcher also waits for its context, and protoactor's
// futures are not safe to complete from two goroutines at once.
type spawnRuntime struct {
	// prefix starts the child's name; the host makes it unique, so that an
	// incarnation whose predecessor is still stopping gets a name too.
	prefix  string
	props   *actor.Props
	spawned chan<- *actor.PID
}

// stopFailed stops a failing child: the ReplicaState watching it reports
// the failure to its instance.
var stopFailed = actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })

type replicasHost struct {
	logger    *slog.Logger
	unhandled *surface.Unhandled
}

func newReplicasHost(logger *slog.Logger, reg prometheus.Registerer) (*actor.Props, error) {
	unhandled, err := surface.NewUnhandled(SubsystemReplicas, logger, reg)
	if err != nil {
		return nil, err
	}
	allow, err := surface.AllowRemote(surface.AllowConfig{Actor: SubsystemReplicas, Logger: logger, Registerer: reg})
	if err != nil {
		return nil, err
	}
	return actor.PropsFromProducer(func() actor.Actor { return &replicasHost{logger: logger, unhandled: unhandled} },
		actor.WithSupervisor(stopFailed), actor.WithReceiverMiddleware(allow)), nil
}

func (h *replicasHost) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *spawnRuntime:
		pid := ctx.SpawnPrefix(m.props, m.prefix)
		h.logger.Info("replica runtime started", "pid", pid.Id)
		m.spawned <- pid
	default:
		h.unhandled.Handle(ctx)
	}
}
