package node

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/metrics"
	"github.com/arbor-db/arbor/timely"
)

// The node's query tracker, spawned as the "querytracker" subsystem. Until
// the environment supplies the real effects (ending statement executions,
// watch sets), nodeTrackerEffects stands in: it cancels compute peeks on
// the node's own clusters, and logs and counts the rest.

// startQueryTracker spawns the query tracker. It does no I/O and opens
// nothing, so it serves as soon as it is spawned; it is not probed, and
// /readyz names it only when it stops.
func (n *Node) startQueryTracker() error {
	effects, err := newNodeTrackerEffects(n.logger.With("actor", SubsystemQueryTracker), n.metrics.registry,
		func(cluster timely.ClusterId) *actor.PID { return n.compute.instanceById(cluster) },
		func(pid *actor.PID, msg any) { n.system.Root.Send(pid, msg) })
	if err != nil {
		return err
	}
	props, err := querytracker.New(querytracker.Config{
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
	return err
}

// nodeTrackerEffects is the query tracker's Effects until the environment
// supplies its own. It never blocks: a cancel is one Send, the rest is a log
// line and a counter.
type nodeTrackerEffects struct {
	logger *slog.Logger
	// instance finds a cluster's instance (nil: the node runs no such
	// cluster); send delivers without waiting.
	instance func(timely.ClusterId) *actor.PID
	send     func(*actor.PID, any)
	calls    *prometheus.CounterVec
}

func newNodeTrackerEffects(logger *slog.Logger, reg prometheus.Registerer,
	instance func(timely.ClusterId) *actor.PID, send func(*actor.PID, any)) (*nodeTrackerEffects, error) {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "arbor_node_querytracker_effects_total",
		Help: "Effects the query tracker asked of the node, by effect, while the node supplies them.",
	}, []string{"effect"})
	if err := metrics.Into(reg, &calls); err != nil {
		return nil, err
	}
	return &nodeTrackerEffects{logger: logger, instance: instance, send: send, calls: calls}, nil
}

// CancelComputePeek cancels the peek on the cluster's instance when this
// node runs that cluster; best effort, as the contract allows.
func (e *nodeTrackerEffects) CancelComputePeek(cluster timely.ClusterId, uuid timely.Uuid, reason querytracker.CancelReason) {
	e.calls.WithLabelValues("cancel_compute_peek").Inc()
	pid := e.instance(cluster)
	if pid == nil {
		e.logger.Debug("cancel of a peek on a cluster this node does not run", "cluster", cluster.String(), "uuid", uuid.String(), "reason", reason.String())
		return
	}
	e.send(pid, instance.CancelPeek{Uuid: uuid})
}

// InstallWatchSet accepts every watch set: nothing drops objects before the
// environment exists.
func (e *nodeTrackerEffects) InstallWatchSet(execution querytracker.ExecutionId, ws querytracker.WatchSet) error {
	e.calls.WithLabelValues("install_watch_set").Inc()
	e.logger.Debug("watch set installed", "execution", execution.String(), "objects", len(ws.Objects))
	return nil
}

// EndExecution logs the end; the statement log is the environment's.
func (e *nodeTrackerEffects) EndExecution(execution querytracker.ExecutionId, reason querytracker.EndReason) {
	e.calls.WithLabelValues("end_execution").Inc()
	e.logger.Debug("execution ended", "execution", execution.String(), "reason", reason.String())
}

// CountCanceledPeeks only logs: the tracker counts canceled peeks itself
// (arbor_querytracker_canceled_peeks_total).
func (e *nodeTrackerEffects) CountCanceledPeeks(reason querytracker.CancelReason, n int) {
	e.calls.WithLabelValues("count_canceled_peeks").Inc()
	e.logger.Debug("peeks canceled", "reason", reason.String(), "count", n)
}
