package pool

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the pool's Prometheus metrics.
type Metrics struct {
	// WorkerRestarts counts worker restarts by the pool after a panic.
	WorkerRestarts prometheus.Counter
	// Flows is the number of flows registered on the pool.
	Flows prometheus.Gauge
}

// NewMetrics creates the metrics and registers them on reg; a nil reg
// leaves them unregistered. It fails if reg already holds them.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		WorkerRestarts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "pool", Name: "worker_restarts_total",
			Help: "Pool workers restarted by the supervisor after a panic.",
		}),
		Flows: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "pool", Name: "flows",
			Help: "Flows registered on the pool's workers.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.WorkerRestarts, m.Flows} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
