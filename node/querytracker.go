package node

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/metrics"
	"github.com/arbor-db/arbor/timely"
)

// The node's query tracker, spawned as the "querytracker" subsystem. Its
// effects are nodeTrackerEffects: each one is passed to the environment's
// (environment.TrackerEffects: ending its statements, canceling its pending
// peeks, which cancels a compute peek at its cluster's instance), and every
// effect is logged and counted.

// startQueryTracker spawns the query tracker. It does no I/O and opens
// nothing, so it serves as soon as it is spawned; it is not probed, and
// /readyz names it only when it stops.
func (n *Node) startQueryTracker() error {
	n.envEffects = environment.NewTrackerEffects()
	effects, err := newNodeTrackerEffects(n.logger.With("actor", SubsystemQueryTracker), n.metrics.registry, n.envEffects)
	if err != nil {
		return err
	}
	props, bind, err := querytracker.NewWithHandle(n.system.Root, querytracker.Config{
		Effects: effects, Clock: n.clock, Registerer: n.metrics.registry, Logger: n.logger,
	})
	if err != nil {
		return err
	}
	// The tracker's commands come from the environment in this process; no
	// other node is meant to send it any yet.
	allow, err := surface.AllowRemote(surface.AllowConfig{
		Actor: SubsystemQueryTracker, Logger: n.logger.With("actor", SubsystemQueryTracker), Registerer: n.metrics.registry,
	})
	if err != nil {
		return err
	}
	n.queryTracker, err = n.spawnSubsystem(SubsystemQueryTracker, props.Configure(actor.WithReceiverMiddleware(allow)))
	if err != nil {
		return err
	}
	n.trackerHandle = bind(n.queryTracker)
	return nil
}

// nodeTrackerEffects is the query tracker's Effects. It never blocks: the
// environment's effects only send, the rest is a log line and a counter.
type nodeTrackerEffects struct {
	logger *slog.Logger
	calls  *prometheus.CounterVec
	env    *environment.TrackerEffects
}

func newNodeTrackerEffects(logger *slog.Logger, reg prometheus.Registerer, env *environment.TrackerEffects) (*nodeTrackerEffects, error) {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "arbor_node_querytracker_effects_total",
		Help: "Effects the query tracker asked of the node, by effect, while the node supplies them.",
	}, []string{"effect"})
	if err := metrics.Into(reg, &calls); err != nil {
		return nil, err
	}
	return &nodeTrackerEffects{logger: logger, calls: calls, env: env}, nil
}

// CancelComputePeek hands the cancel to the environment, whose peek it
// is; best effort, as the contract allows.
func (e *nodeTrackerEffects) CancelComputePeek(cluster timely.ClusterId, uuid timely.Uuid, reason querytracker.CancelReason) {
	e.calls.WithLabelValues("cancel_compute_peek").Inc()
	e.logger.Debug("compute peek canceled", "cluster", cluster.String(), "uuid", uuid.String(), "reason", reason.String())
	e.env.CancelComputePeek(cluster, uuid, reason)
}

// InstallWatchSet installs through the environment's effects.
func (e *nodeTrackerEffects) InstallWatchSet(execution querytracker.ExecutionId, ws querytracker.WatchSet) error {
	e.calls.WithLabelValues("install_watch_set").Inc()
	e.logger.Debug("watch set installed", "execution", execution.String(), "objects", len(ws.Objects))
	return e.env.InstallWatchSet(execution, ws)
}

// EndExecution tells the environment, whose statement it was.
func (e *nodeTrackerEffects) EndExecution(execution querytracker.ExecutionId, reason querytracker.EndReason) {
	e.calls.WithLabelValues("end_execution").Inc()
	e.logger.Debug("execution ended", "execution", execution.String(), "reason", reason.String())
	e.env.EndExecution(execution, reason)
}

// CountCanceledPeeks passes the count to the environment's effects (the
// tracker also counts canceled peeks itself).
func (e *nodeTrackerEffects) CountCanceledPeeks(reason querytracker.CancelReason, n int) {
	e.calls.WithLabelValues("count_canceled_peeks").Inc()
	e.logger.Debug("peeks canceled", "reason", reason.String(), "count", n)
	e.env.CountCanceledPeeks(reason, n)
}
