package runtime

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/metrics"
)

// runtimeMetrics are the runtime's own series (the coordinator and pool
// register theirs).
type runtimeMetrics struct {
	// reconciled counts what reconciliation did with installed dataflows,
	// by outcome: kept, rebuilt, dropped.
	reconciled *prometheus.CounterVec
	// stale counts commands rejected for an older epoch.
	stale prometheus.Counter
	// rejected counts commands refused for another reason (out of stage,
	// unknown collection, invalid).
	rejected prometheus.Counter
	// storageTimeouts counts storage calls that timed out.
	storageTimeouts prometheus.Counter
	// sinkAppends counts materialized-view sink appends by outcome:
	// appended, lost_race (another replica wrote the range), failed, and
	// corrected (an append that corrects a collection behind the as_of).
	sinkAppends *prometheus.CounterVec
}

func newRuntimeMetrics(reg prometheus.Registerer) (*runtimeMetrics, error) {
	m := &runtimeMetrics{
		reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbor_runtime_reconcile_dataflows_total",
			Help: "Installed dataflows reconciled against a reconnecting controller's commands, by outcome (kept, rebuilt, dropped).",
		}, []string{"outcome"}),
		stale: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbor_runtime_stale_commands_total",
			Help: "Compute commands rejected because their epoch is older than the connection's.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbor_runtime_rejected_commands_total",
			Help: "Compute commands refused: out of stage, unknown collection or invalid.",
		}),
		storageTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbor_runtime_storage_timeouts_total",
			Help: "Storage requests of the runtime that got no answer within the storage timeout.",
		}),
		sinkAppends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbor_runtime_sink_appends_total",
			Help: "Appends of materialized-view sinks to their storage collections, by outcome (appended, lost_race, failed, corrected).",
		}, []string{"outcome"}),
	}
	var err error
	if m.reconciled, err = metrics.Register(reg, m.reconciled); err != nil {
		return nil, err
	}
	if m.sinkAppends, err = metrics.Register(reg, m.sinkAppends); err != nil {
		return nil, err
	}
	if err := metrics.Into(reg, &m.stale, &m.rejected, &m.storageTimeouts); err != nil {
		return nil, err
	}
	return m, nil
}
