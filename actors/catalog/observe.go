package catalog

import (
	"errors"
	"time"

	"github.com/arbor-db/arbor/actors/catalog/durable"
)

// countCommit counts a commit that began at start and ended with err.
func (g *guardian) countCommit(start time.Time, err error) {
	m := g.cfg.Metrics
	if m == nil {
		return
	}
	result := ResultOK
	switch {
	case err == nil:
	case errors.Is(err, durable.ErrFenced):
		result = ResultFenced
	case errors.Is(err, durable.ErrStaleTransaction):
		result = ResultStale
	default:
		result = ResultError
	}
	m.Commits.WithLabelValues(result).Inc()
	m.CommitLatency.Observe(g.cfg.Clock.Since(start).Seconds())
}

// observe copies the handle's counters into the metrics.
func (g *guardian) observe() {
	m := g.cfg.Metrics
	if m == nil || g.handle == nil {
		return
	}
	if s := g.handle.Syncs(); s > g.syncs {
		m.Syncs.Add(float64(s - g.syncs))
		g.syncs = s
	}
	for k, n := range g.handle.Counts() {
		m.Entries.WithLabelValues(k.String()).Set(float64(n))
	}
}
