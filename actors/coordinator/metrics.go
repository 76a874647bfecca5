package coordinator

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the coordinator's Prometheus metrics.
type Metrics struct {
	// Flows is the number of flows by state (registering, backfilling,
	// active).
	Flows *prometheus.GaugeVec
	// Batches counts submissions to the pool, by kind (consume, backfill).
	Batches *prometheus.CounterVec
	// ChangesRouted counts updates handed to flows, by kind.
	ChangesRouted *prometheus.CounterVec
	// BackfillRemaining is the sum over backfilling flows of the versions
	// (timestamp units) between their checkpoint and the consumed upper.
	BackfillRemaining prometheus.Gauge
	// CheckpointLag is the consumed storage upper minus the least committed
	// checkpoint, in timestamp units (milliseconds).
	CheckpointLag prometheus.Gauge
	// BusyReplies counts Consumes answered "coordinator busy".
	BusyReplies prometheus.Counter
	// CommitFailures counts commits that failed.
	CommitFailures prometheus.Counter
	// FlowTicks counts flows ticked on their tick schedule.
	FlowTicks prometheus.Counter
}

// NewMetrics creates the metrics and registers them on reg; a nil reg
// leaves them unregistered. It fails if reg already holds them.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Flows: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "flows",
			Help: "Flows of the replica runtime by state.",
		}, []string{"state"}),
		Batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "batches_total",
			Help: "Submissions of batches to the worker pool, by kind (consume, backfill).",
		}, []string{"kind"}),
		ChangesRouted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "changes_routed_total",
			Help: "Updates handed to flows, by kind (consume, backfill).",
		}, []string{"kind"}),
		BackfillRemaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "backfill_remaining_versions",
			Help: "Sum over backfilling flows of the timestamps between checkpoint and consumed upper.",
		}),
		CheckpointLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "checkpoint_lag",
			Help: "Consumed storage upper minus the least committed flow checkpoint (timestamp units).",
		}),
		BusyReplies: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "busy_replies_total",
			Help: "Consumes answered 'coordinator busy'.",
		}),
		CommitFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "commit_failures_total",
			Help: "Commits of outputs and checkpoints that failed.",
		}),
		FlowTicks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "flow_ticks_total",
			Help: "Flows ticked on their tick schedule.",
		}),
	}
	for _, s := range []FlowState{FlowRegistering, FlowBackfilling, FlowActive} {
		m.Flows.WithLabelValues(s.String())
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.Flows, m.Batches, m.ChangesRouted, m.BackfillRemaining, m.CheckpointLag, m.BusyReplies, m.CommitFailures, m.FlowTicks} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
