package catalog

import (
	"errors"
	"fmt"
	"testing"
	"time"

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

// TestStartAfterStoppingOpensNothing: protoactor may restart a guardian
// whose Stop it has already begun (a failure's Restart racing the Stop).
// The incarnation it starts then must not open the catalog or start a
// timer: nothing would ever stop them (the leak the guardian tests saw
// under load).
func TestStartAfterStoppingOpensNothing(t *testing.T) {
	c := NewCore(100*time.Millisecond, 400*time.Millisecond)
	if eff := c.Start(); !eff.Open {
		t.Fatalf("first start: %+v, want Open", eff)
	}
	if eff := c.Stopping(); !eff.StopTimers {
		t.Fatalf("stopping: %+v, want StopTimers", eff)
	}
	if !c.IsStopping() {
		t.Fatal("IsStopping is false after Stopping")
	}
	c.Restarting()
	if eff := c.Start(); eff.Open || eff.Backoff != 0 || eff.Confirm {
		t.Fatalf("start after stopping: %+v, want nothing", eff)
	}
}
