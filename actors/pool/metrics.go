package pool

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/metrics"
)

// poolMetrics are the pool's Prometheus metrics, registered through
// metrics.Into: two pools on one registry (a restarted runtime) share
// the series.
type poolMetrics struct {
	// workerRestarts counts worker restarts by the pool after a panic.
	workerRestarts prometheus.Counter
	// flows is the number of flows registered on the pool.
	flows prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*poolMetrics, error) {
	m := &poolMetrics{
		workerRestarts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "pool", Name: "worker_restarts_total",
			Help: "Pool workers restarted by the supervisor after a panic.",
		}),
		flows: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "pool", Name: "flows",
			Help: "Flows registered on the pool's workers.",
		}),
	}
	if err := errors.Join(metrics.Into(reg, &m.workerRestarts), metrics.Into(reg, &m.flows)); err != nil {
		return nil, fmt.Errorf("pool: metrics: %w", err)
	}
	return m, nil
}
