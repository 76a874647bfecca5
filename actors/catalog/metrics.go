package catalog

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/metrics"
)

// Commit results, the values of the "result" label of
// arbor_catalog_commits_total.
const (
	ResultOK     = "ok"
	ResultFenced = "fenced"
	ResultStale  = "stale"
	ResultError  = "error"
)

// Metrics are the guardian's Prometheus metrics. The guardian updates them
// from its own goroutine only.
type Metrics struct {
	// Commits counts commits of non-empty transactions by result.
	Commits *prometheus.CounterVec
	// CommitLatency is the time from beginning a transaction to its
	// commit's answer, in seconds (measured with the guardian's clock).
	CommitLatency prometheus.Histogram
	// Syncs counts syncs that read new updates from the catalog shard.
	Syncs prometheus.Counter
	// FenceEvents counts times this node was fenced (0 or 1 per process).
	FenceEvents prometheus.Counter
	// Entries is the number of catalog entries of each kind.
	Entries *prometheus.GaugeVec
	// Opens counts successful opens of the catalog (1 + restarts).
	Opens prometheus.Counter

	// reg is where they were registered (New registers the guardian's
	// unknown-message counter there too).
	reg prometheus.Registerer
}

// NewMetrics creates the metrics and registers them on reg with
// metrics.Register's rule: none when reg is nil; metrics of the same
// description already there are reused (two guardians in one process
// share them); any other conflict is an error.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "catalog", Name: "commits_total",
			Help: "Catalog transaction commits by result (ok, fenced, stale, error).",
		}, []string{"result"}),
		CommitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "arbor", Subsystem: "catalog", Name: "commit_duration_seconds",
			Help:    "Time from beginning a catalog transaction to its commit's answer.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
		Syncs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "catalog", Name: "syncs_total",
			Help: "Syncs that read new updates from the catalog shard.",
		}),
		FenceEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "catalog", Name: "fence_events_total",
			Help: "Times this node was fenced out of the catalog by a newer writer.",
		}),
		Entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "catalog", Name: "entries",
			Help: "Catalog entries by kind.",
		}, []string{"kind"}),
		Opens: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "catalog", Name: "opens_total",
			Help: "Successful opens of the catalog by the guardian.",
		}),
	}
	m.reg = reg
	err := metrics.Into(reg, &m.Commits)
	if err == nil {
		err = metrics.Into(reg, &m.CommitLatency)
	}
	if err == nil {
		err = metrics.Into(reg, &m.Syncs, &m.FenceEvents, &m.Opens)
	}
	if err == nil {
		err = metrics.Into(reg, &m.Entries)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog guardian: metrics: %w", err)
	}
	for _, r := range []string{ResultOK, ResultFenced, ResultStale, ResultError} {
		m.Commits.WithLabelValues(r)
	}
	for _, k := range durable.Kinds {
		m.Entries.WithLabelValues(k.String())
	}
	return m, nil
}
