package querytracker

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/metrics"
)

// Metrics are the tracker's Prometheus metrics, registered through
// metrics.Into on Config.Registerer: two trackers on one registry share
// the series.
type Metrics struct {
	// TrackedPeeks is the number of tracked peeks.
	TrackedPeeks prometheus.Gauge
	// Tombstones is the number of live tombstones.
	Tombstones prometheus.Gauge
	// UnretiredExecutions is the number of live execution handles.
	UnretiredExecutions prometheus.Gauge
	// CanceledPeeks counts canceled peeks by CancelReason.
	CanceledPeeks *prometheus.CounterVec
	// IgnoredCommands counts commands that changed nothing, by kind
	// (unknown_peek, duplicate_peek, invalid, ...): late or duplicate
	// messages, and bad input.
	IgnoredCommands *prometheus.CounterVec
	// DoubleRetirements counts attempts to retire an already retired
	// execution handle.
	DoubleRetirements prometheus.Counter
	// SendsAfterStop counts Handle.Send calls made after the tracker
	// stopped; those commands are dropped.
	SendsAfterStop prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		TrackedPeeks: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "querytracker", Name: "tracked_peeks",
			Help: "Peeks the query tracker is tracking.",
		}),
		Tombstones: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "querytracker", Name: "tombstones",
			Help: "Tombstones of recently dropped clusters and collections.",
		}),
		UnretiredExecutions: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "querytracker", Name: "unretired_executions",
			Help: "Statement execution handles begun and not yet retired.",
		}),
		CanceledPeeks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "querytracker", Name: "canceled_peeks_total",
			Help: "Peeks canceled by the query tracker, by reason.",
		}, []string{"reason"}),
		IgnoredCommands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "querytracker", Name: "ignored_commands_total",
			Help: "Commands that changed nothing (late, duplicate or bad input), by kind.",
		}, []string{"kind"}),
		DoubleRetirements: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "querytracker", Name: "double_retirements_total",
			Help: "Attempts to retire an execution handle that was already retired.",
		}),
		SendsAfterStop: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "querytracker", Name: "sends_after_stop_total",
			Help: "Commands sent to the query tracker after it stopped (dropped).",
		}),
	}
	// metrics.Into takes one collector type per call.
	if err := errors.Join(
		metrics.Into(reg, &m.TrackedPeeks, &m.Tombstones, &m.UnretiredExecutions),
		metrics.Into(reg, &m.CanceledPeeks, &m.IgnoredCommands),
		metrics.Into(reg, &m.DoubleRetirements, &m.SendsAfterStop),
	); err != nil {
		return nil, fmt.Errorf("querytracker: metrics: %w", err)
	}
	for _, r := range CancelReasons {
		m.CanceledPeeks.WithLabelValues(r.String())
	}
	return m, nil
}

// ignoredKind is the IgnoredCommands label of an error a command returned.
func ignoredKind(err error) string {
	kinds := []struct {
		err  error
		kind string
	}{
		{ErrUnknownPeek, "unknown_peek"},
		{ErrDuplicatePeek, "duplicate_peek"},
		{ErrPeekEnded, "peek_ended"},
		{ErrExecutionHasPeek, "execution_has_peek"},
		{ErrUnknownExecution, "unknown_execution"},
		{ErrExecutionExists, "execution_exists"},
		{ErrExecutionEnded, "execution_ended"},
		{ErrAlreadyRetired, "already_retired"},
		{ErrInvalidCommand, "invalid"},
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return "other"
}

// meteredEffects counts canceled peeks in the metrics and forwards every
// effect to the injected Effects.
type meteredEffects struct {
	Effects
	metrics *Metrics
}

// CountCanceledPeeks adds to the metric, then forwards.
func (m meteredEffects) CountCanceledPeeks(reason CancelReason, n int) {
	m.metrics.CanceledPeeks.WithLabelValues(reason.String()).Add(float64(n))
	m.Effects.CountCanceledPeeks(reason, n)
}
