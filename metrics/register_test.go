package metrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/metrics"
)

func TestRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	c1 := prometheus.NewCounter(prometheus.CounterOpts{Name: "arbor_x_total", Help: "x"})
	got, err := metrics.Register(reg, c1)
	require.NoError(t, err)
	require.Same(t, c1, got)

	// The same description again: the existing collector is shared.
	c2 := prometheus.NewCounter(prometheus.CounterOpts{Name: "arbor_x_total", Help: "x"})
	got, err = metrics.Register(reg, c2)
	require.NoError(t, err)
	require.Same(t, c1, got)

	// The same name with other labels: an error.
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbor_x_total", Help: "x"}, []string{"kind"})
	_, err = metrics.Register(reg, v)
	require.Error(t, err)

	// No registry: unregistered, no error.
	got, err = metrics.Register[prometheus.Counter](nil, c2)
	require.NoError(t, err)
	require.Same(t, c2, got)
}

func TestInto(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := prometheus.NewGauge(prometheus.GaugeOpts{Name: "arbor_a", Help: "a"})
	b := prometheus.NewGauge(prometheus.GaugeOpts{Name: "arbor_b", Help: "b"})
	require.NoError(t, metrics.Into(reg, &a, &b))
	a2 := prometheus.NewGauge(prometheus.GaugeOpts{Name: "arbor_a", Help: "a"})
	require.NoError(t, metrics.Into(reg, &a2))
	require.Same(t, a, a2)
}
