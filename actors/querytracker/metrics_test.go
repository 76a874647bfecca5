package querytracker

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

var testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestMetricsRegisterOncePerRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := NewMetrics(reg)
	require.NoError(t, err)
	_, err = NewMetrics(reg)
	var already prometheus.AlreadyRegisteredError
	require.True(t, errors.As(err, &already), "second registration: %v", err)

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

func TestSpawnRequiresEffects(t *testing.T) {
	_, err := Spawn(nil, Options{})
	require.Error(t, err)
}
