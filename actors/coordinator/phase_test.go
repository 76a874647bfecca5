package coordinator

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTransitionTable checks every (phase, event) pair against the table
// drawn in transition's doc comment; "-" marks an illegal pair.
func TestTransitionTable(t *testing.T) {
	events := []Event{
		EvConsume{}, EvConsume{Registrations: true}, EvInstall{},
		EvRegistered{More: true}, EvRegistered{Consuming: true}, EvRegistered{},
		EvContinueBackfill{}, EvNoReads{}, EvRead{}, EvSubmitted{},
		EvCommitted{}, EvCommitted{Backfill: true}, EvTick{}, EvTicked{},
	}
	const (
		I = "Idle"
		R = "RegisteringFlows"
		S = "SubmittingBatches"
		B = "ReadingBackfill"
		A = "AdvancingBackfill"
		C = "Committing"
		T = "Ticking"
		x = "-"
	)
	want := map[Phase][]string{
		//          Cons Cons+R Inst RegM RegC Reg Cont NoRd Read Sub Cmt Cmt+B Tick Tckd
		Idle:              {S, R, R, x, x, x, B, x, x, x, x, x, T, x},
		RegisteringFlows:  {x, x, x, R, S, B, x, x, x, x, x, x, x, x},
		SubmittingBatches: {x, x, x, x, x, x, x, x, x, C, x, x, x, x},
		ReadingBackfill:   {x, x, x, x, x, x, x, I, A, x, x, x, x, x},
		AdvancingBackfill: {x, x, x, x, x, x, x, x, x, C, x, x, x, x},
		Committing:        {x, x, x, x, x, x, x, x, x, x, I, B, x, x},
		Ticking:           {x, x, x, x, x, x, x, x, x, x, x, x, x, I},
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

// TestIllegalTransitionIsLoud: the Core panics (its supervisor decides)
// when fed an outcome its phase does not expect.
func TestIllegalTransitionIsLoud(t *testing.T) {
	c := NewCore(CoreConfig{})
	require.Panics(t, func() { c.Registered(1, nil) })
	require.Panics(t, func() { c.Submitted(nil, nil) })
	require.Panics(t, func() { c.Committed(nil, nil) })
	require.Panics(t, func() { c.ReadDone(nil) })
	require.Panics(t, func() { c.Ticked() })
	require.Panics(t, func() { c.move(EvRead{}) })
}
