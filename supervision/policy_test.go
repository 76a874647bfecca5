package supervision

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	require.NoError(t, DefaultPolicy().Validate())
	for _, tc := range []struct {
		name   string
		change func(*Policy)
		field  string
	}{
		{"zero initial", func(p *Policy) { p.InitialBackoff = 0 }, "InitialBackoff"},
		{"negative initial", func(p *Policy) { p.InitialBackoff = -time.Second }, "InitialBackoff"},
		{"max below initial", func(p *Policy) { p.MaxBackoff = p.InitialBackoff - 1 }, "MaxBackoff"},
		{"multiplier below 1", func(p *Policy) { p.Multiplier = 0.5 }, "Multiplier"},
		{"multiplier NaN", func(p *Policy) { p.Multiplier = math.NaN() }, "Multiplier"},
		{"multiplier infinite", func(p *Policy) { p.Multiplier = math.Inf(1) }, "Multiplier"},
		{"negative jitter", func(p *Policy) { p.Jitter = -0.1 }, "Jitter"},
		{"jitter 1", func(p *Policy) { p.Jitter = 1 }, "Jitter"},
		{"jitter NaN", func(p *Policy) { p.Jitter = math.NaN() }, "Jitter"},
		{"no restarts", func(p *Policy) { p.MaxRestarts = 0 }, "MaxRestarts"},
		{"zero window", func(p *Policy) { p.Window = 0 }, "Window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			tc.change(&p)
			err := p.Validate()
			require.ErrorIs(t, err, ErrInvalidPolicy)
			require.Contains(t, err.Error(), tc.field)
			_, err = NewTracker(p, rand.New(rand.NewPCG(1, 1)))
			require.ErrorIs(t, err, ErrInvalidPolicy)
		})
	}
	// Edges that are valid.
	p := DefaultPolicy()
	p.Multiplier, p.Jitter, p.MaxRestarts, p.MaxBackoff = 1, 0, 1, p.InitialBackoff
	require.NoError(t, p.Validate())
}

func TestBase(t *testing.T) {
	p := Policy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2, MaxRestarts: 1, Window: time.Minute}
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{0, 100 * time.Millisecond}, // no failure yet: treated as the first
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second}, // 1.6s capped
		{100, time.Second},
		{math.MaxInt, time.Second}, // the power overflows to +Inf: capped, no wrap
	} {
		require.Equal(t, tc.want, p.Base(tc.n), "n=%d", tc.n)
	}
	p.Multiplier = 1
	require.Equal(t, 100*time.Millisecond, p.Base(50), "multiplier 1 is a constant delay")
	p.MaxBackoff = time.Duration(math.MaxInt64)
	p.Multiplier = 10
	require.Equal(t, time.Duration(math.MaxInt64), p.Base(40), "no overflow near the largest duration")
}

func TestStateText(t *testing.T) {
	for _, s := range States {
		b, err := s.MarshalText()
		require.NoError(t, err)
		var back State
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, s, back)
	}
	var s State
	require.Error(t, s.UnmarshalText([]byte("sleeping")))
	require.Equal(t, "State(9)", State(9).String())
	require.Equal(t, "Action(9)", Action(9).String())
}

func TestNilRandPanics(t *testing.T) {
	require.Panics(t, func() { _, _ = NewTracker(DefaultPolicy(), nil) })
}

func TestLastErr(t *testing.T) {
	tr, err := NewTracker(DefaultPolicy(), rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	require.NoError(t, tr.LastErr())
	boom := errors.New("boom")
	tr.Failed(epoch, boom)
	require.ErrorIs(t, tr.LastErr(), boom)
}
