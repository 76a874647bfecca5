package environment

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/metrics"
)

// Metrics are the environment's collectors.
type Metrics struct {
	// Statements counts answered requests by kind and wire code ("ok" for
	// success).
	Statements *prometheus.CounterVec
	// Sessions is the number of open sessions.
	Sessions prometheus.Gauge
	// PendingPeeks is the number of peeks waiting for storage.
	PendingPeeks prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbor_environment_statements_total",
			Help: "Client requests answered, by kind and result code.",
		}, []string{"kind", "result"}),
		Sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbor_environment_sessions",
			Help: "Open client sessions.",
		}),
		PendingPeeks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbor_environment_pending_peeks",
			Help: "Peeks waiting for their storage read.",
		}),
	}
	if err := metrics.Into(reg, &m.Statements); err != nil {
		return nil, err
	}
	if err := metrics.Into(reg, &m.Sessions, &m.PendingPeeks); err != nil {
		return nil, err
	}
	return m, nil
}
