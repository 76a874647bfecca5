package catalog

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTransitionTable checks every (phase, event) pair against the paths
// drawn in transition's doc comment; "-" marks an illegal pair.
func TestTransitionTable(t *testing.T) {
	events := []Event{
		EvStarted{}, EvStarted{Backoff: true}, EvBackoffDone{}, EvOpened{},
		EvFenced{}, EvIncompatible{}, EvTransient{}, EvRestarting{},
	}
	const (
		S = "starting"
		O = "opening"
		B = "backoff"
		R = "ready"
		F = "fenced"
		H = "halted"
		X = "failed"
		x = "-"
	)
	want := map[Phase][]string{
		//             Strt Strt+B BkDn Opnd Fncd Incp Trns Rstr
		PhaseStarting: {O, B, x, x, x, x, x, S},
		PhaseBackoff:  {x, x, O, x, x, x, x, S},
		PhaseOpening:  {x, x, x, R, F, H, X, S},
		PhaseReady:    {x, x, x, x, F, x, X, S},
		PhaseFailed:   {x, x, x, x, x, x, x, S},
		PhaseFenced:   {F, F, F, F, F, F, F, F},
		PhaseHalted:   {H, H, H, H, H, H, H, H},
	}
	for from, row := range want {
		for i, ev := range events {
			next, err := transition(from, ev)
			name := fmt.Sprintf("%s --%s-->", from, ev)
			if row[i] == x {
				require.Error(t, err, name)
				require.True(t, errors.Is(err, ErrIllegalTransition), name)
				require.Equal(t, from, next, name)
				require.Contains(t, err.Error(), from.String(), name)
				continue
			}
			require.NoError(t, err, name)
			require.Equal(t, row[i], next.String(), name)
		}
	}
}
