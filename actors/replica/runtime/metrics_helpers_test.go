package runtime_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// counterValue reads a counter (or gauge) with the given label value (or
// the only series when label is empty) from reg.
func counterValue(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" {
				match := false
				for _, l := range m.GetLabel() {
					if l.GetValue() == label {
						match = true
					}
				}
				if !match {
					continue
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func testkitHydrated(t testing.TB, h *harness, id timely.GlobalId) {
	testkit.Eventually(t, func() bool {
		h.events.mu.Lock()
		defer h.events.mu.Unlock()
		return h.events.hydrated[id] > 0
	}, wait, "%s hydrated", id)
}
