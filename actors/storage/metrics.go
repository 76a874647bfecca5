package storage

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/metrics"
)

// Metrics are the storage actor's Prometheus metrics.
type Metrics struct {
	// Writes counts committed writes (StorageWrite requests).
	Writes prometheus.Counter
	// RejectedWrites counts writes answered with an error, by error code.
	RejectedWrites *prometheus.CounterVec
	// Appends counts committed collection appends (StorageAppend);
	// RejectedAppends those answered with an error, by error code (a lost
	// compare-and-append race is REGRESSION).
	Appends         prometheus.Counter
	RejectedAppends *prometheus.CounterVec
	// Rows counts committed row changes.
	Rows prometheus.Counter
	// GroupCommitSize observes the number of writes per group commit.
	GroupCommitSize prometheus.Histogram
	// CdcLag is how many versions the slowest subscription's read hold
	// (its consumer's checkpoint) trails the upper.
	CdcLag prometheus.Gauge
	// Tables is the number of live tables.
	Tables prometheus.Gauge
	// Subscriptions is the number of CDC subscriptions.
	Subscriptions prometheus.Gauge
}

// NewMetrics creates the metrics and registers them on reg with
// metrics.Register's rule: none when reg is nil; metrics of the same
// description already on reg (from an earlier storage actor) are reused, so
// a restarted actor keeps counting where it was; any other conflict is an
// error.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Writes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "writes_total",
			Help: "Writes committed by the storage actor.",
		}),
		RejectedWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "rejected_writes_total",
			Help: "Writes answered with an error, by error code.",
		}, []string{"code"}),
		Appends: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "collection_appends_total",
			Help: "Appends to storage collections committed by the storage actor.",
		}),
		RejectedAppends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "rejected_collection_appends_total",
			Help: "Appends to storage collections answered with an error, by error code.",
		}, []string{"code"}),
		Rows: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "rows_total",
			Help: "Row changes committed by the storage actor.",
		}),
		GroupCommitSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "group_commit_size",
			Help:    "Writes per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		CdcLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "cdc_lag_versions",
			Help: "Versions the slowest CDC subscription's read hold trails the upper.",
		}),
		Tables: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "tables",
			Help: "Live tables.",
		}),
		Subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "storage", Name: "subscriptions",
			Help: "CDC subscriptions.",
		}),
	}
	err := metrics.Into(reg, &m.Writes, &m.Rows, &m.Appends)
	if err == nil {
		err = metrics.Into(reg, &m.RejectedWrites, &m.RejectedAppends)
	}
	if err == nil {
		err = metrics.Into(reg, &m.GroupCommitSize)
	}
	if err == nil {
		err = metrics.Into(reg, &m.CdcLag, &m.Tables, &m.Subscriptions)
	}
	return m, err
}
