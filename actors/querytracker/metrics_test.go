package querytracker

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

var testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestMetricsSharedPerRegistry: a second tracker on the same registry
// shares the first one's series (metrics.Register's rule).
func TestMetricsSharedPerRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1, err := newMetrics(reg)
	require.NoError(t, err)
	m2, err := newMetrics(reg)
	require.NoError(t, err)
	require.Same(t, m1.IgnoredCommands, m2.IgnoredCommands)

	families, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, n := range []string{"arbor_querytracker_tracked_peeks", "arbor_querytracker_tombstones",
		"arbor_querytracker_canceled_peeks_total", "arbor_querytracker_unretired_executions",
		"arbor_querytracker_double_retirements_total", "arbor_querytracker_sends_after_stop_total"} {
		require.True(t, names[n], "%s is exported", n)
	}
}

func TestNewRequiresEffects(t *testing.T) {
	_, err := New(Config{})
	require.Error(t, err)
	_, err = Spawn(nil, Config{})
	require.Error(t, err)
}
