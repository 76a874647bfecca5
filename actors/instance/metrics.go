package instance

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/metrics"
)

// Metrics are the instance's collectors, named after Materialize's compute
// controller metrics under arbor_compute_. Every series has a cluster
// label, so instances of several clusters share the collectors.
type Metrics struct {
	ReplicaCount        *prometheus.GaugeVec
	CollectionCount     *prometheus.GaugeVec
	PeeksTotal          *prometheus.CounterVec
	HistoryCommandCount *prometheus.GaugeVec
	SubscribeCount      *prometheus.GaugeVec
	WallclockLagSeconds *prometheus.GaugeVec
	// IgnoredResponses counts replica responses dropped or partly ignored,
	// by reason.
	IgnoredResponses *prometheus.CounterVec
	// StatusErrors counts the errors replicas reported in ComputeStatus,
	// by replica, collection ("" for the runtime itself) and code.
	StatusErrors *prometheus.CounterVec
}

// NewMetrics builds the collectors and registers them on reg (nil: not
// registered), reusing collectors already registered by another instance.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		ReplicaCount: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "arbor_compute_replica_count",
			Help: "Replicas of the cluster's instance."}, []string{"cluster"}),
		CollectionCount: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "arbor_compute_collection_count",
			Help: "Compute collections the instance tracks (dropped ones until cleaned up)."}, []string{"cluster"}),
		PeeksTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbor_compute_peeks_total",
			Help: "Peeks answered, by result (rows, error, canceled, timeout, replica_failed, stopped, refused)."}, []string{"cluster", "result"}),
		HistoryCommandCount: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "arbor_compute_history_command_count",
			Help: "Commands in the instance's command history, by kind."}, []string{"cluster", "kind"}),
		SubscribeCount: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "arbor_compute_subscribe_count",
			Help: "Active subscribes."}, []string{"cluster"}),
		WallclockLagSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "arbor_compute_wallclock_lag_seconds",
			Help: "How far a collection's last complete time is behind the wall clock, as of the last maintenance."}, []string{"cluster", "collection"}),
	}
	if err := metrics.Into(reg, &m.ReplicaCount, &m.CollectionCount, &m.HistoryCommandCount, &m.SubscribeCount, &m.WallclockLagSeconds); err != nil {
		return nil, err
	}
	m.IgnoredResponses = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbor_compute_ignored_responses_total",
		Help: "Replica responses dropped or partly ignored, by reason (stale_epoch, frontier_regression, unknown_collection, unknown_replica, malformed)."},
		[]string{"cluster", "reason"})
	m.StatusErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbor_compute_replica_status_errors_total",
		Help: "Errors replicas reported about themselves or a collection, by replica, collection (empty: the runtime) and code."},
		[]string{"cluster", "replica", "collection", "code"})
	if err := metrics.Into(reg, &m.PeeksTotal, &m.IgnoredResponses, &m.StatusErrors); err != nil {
		return nil, err
	}
	return m, nil
}

// refresh sets the gauges of cluster from the core's stats.
func (m *Metrics) refresh(cluster string, s Stats) {
	m.ReplicaCount.WithLabelValues(cluster).Set(float64(s.Replicas))
	m.CollectionCount.WithLabelValues(cluster).Set(float64(s.Collections))
	m.SubscribeCount.WithLabelValues(cluster).Set(float64(s.Subscribes))
	m.HistoryCommandCount.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
	for kind, n := range s.HistoryByKind {
		m.HistoryCommandCount.WithLabelValues(cluster, kind).Set(float64(n))
	}
	m.WallclockLagSeconds.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
	for id, lag := range s.WallclockLag {
		m.WallclockLagSeconds.WithLabelValues(cluster, id).Set(lag.Seconds())
	}
}
