package coordinator

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/metrics"
)

// coordMetrics are the coordinator's Prometheus metrics, registered
// through metrics.Into: two coordinators on one registry (a restarted
// runtime) share the series.
type coordMetrics struct {
	// flows is the number of flows by state (registering, backfilling,
	// active).
	flows *prometheus.GaugeVec
	// batches counts submissions to the pool, by kind (consume, backfill).
	batches *prometheus.CounterVec
	// changesRouted counts updates handed to flows, by kind.
	changesRouted *prometheus.CounterVec
	// backfillRemaining is the sum over backfilling flows of the versions
	// (timestamp units) between their checkpoint and the consumed upper.
	backfillRemaining prometheus.Gauge
	// checkpointLag is the consumed storage upper minus the least committed
	// checkpoint, in timestamp units (milliseconds).
	checkpointLag prometheus.Gauge
	// busyReplies counts Consumes answered "coordinator busy".
	busyReplies prometheus.Counter
	// commitFailures counts commits that failed.
	commitFailures prometheus.Counter
	// storeTimeouts counts store calls that did not finish within
	// Config.StoreTimeout, by operation (read, commit, checkpoints).
	storeTimeouts *prometheus.CounterVec
	// flowTicks counts flows ticked on their tick schedule.
	flowTicks prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*coordMetrics, error) {
	m := &coordMetrics{
		flows: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "flows",
			Help: "Flows of the replica runtime by state.",
		}, []string{"state"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "batches_total",
			Help: "Submissions of batches to the worker pool, by kind (consume, backfill).",
		}, []string{"kind"}),
		changesRouted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "changes_routed_total",
			Help: "Updates handed to flows, by kind (consume, backfill).",
		}, []string{"kind"}),
		backfillRemaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "backfill_remaining_versions",
			Help: "Sum over backfilling flows of the timestamps between checkpoint and consumed upper.",
		}),
		checkpointLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "checkpoint_lag",
			Help: "Consumed storage upper minus the least committed flow checkpoint (timestamp units).",
		}),
		busyReplies: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "busy_replies_total",
			Help: "Consumes answered 'coordinator busy'.",
		}),
		commitFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "commit_failures_total",
			Help: "Commits of outputs and checkpoints that failed.",
		}),
		storeTimeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "store_timeouts_total",
			Help: "Store calls that did not finish within the store timeout, by operation.",
		}, []string{"op"}),
		flowTicks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "flow_ticks_total",
			Help: "Flows ticked on their tick schedule.",
		}),
	}
	// metrics.Into takes one collector type per call.
	errs := []error{
		metrics.Into(reg, &m.flows),
		metrics.Into(reg, &m.batches, &m.changesRouted, &m.storeTimeouts),
		metrics.Into(reg, &m.backfillRemaining, &m.checkpointLag),
		metrics.Into(reg, &m.busyReplies, &m.commitFailures, &m.flowTicks),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("coordinator: metrics: %w", err)
	}
	for _, s := range []FlowState{FlowRegistering, FlowBackfilling, FlowActive} {
		m.flows.WithLabelValues(s.String())
	}
	return m, nil
}
