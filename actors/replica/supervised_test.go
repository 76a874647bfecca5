package replica

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/supervision"
)

func TestSupervisedGivesUpAfterTheBudget(t *testing.T) {
	p := supervision.Policy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2, Jitter: 0.2, MaxRestarts: 3, Window: time.Minute}
	s, err := NewSupervised(p, 7)
	require.NoError(t, err)
	now := time.Unix(1000, 0)
	boom := errors.New("runtime exited")
	var last time.Duration
	for i := 0; i < 3; i++ {
		d := s.Failed(now, boom)
		require.True(t, d.Restart, "restart %d", i)
		require.LessOrEqual(t, d.After, p.MaxBackoff)
		require.Greater(t, d.After, time.Duration(0))
		if i > 0 {
			require.Greater(t, d.After, last/2, "backoff does not collapse")
		}
		last = d.After
		now = now.Add(d.After)
	}
	d := s.Failed(now, boom)
	require.False(t, d.Restart)
	require.ErrorIs(t, d.Err, boom)
	require.Contains(t, d.Err.Error(), "restart budget spent")
	st := s.Status(now)
	require.True(t, st.Failing)
	require.Equal(t, "runtime exited", st.LastError)

	_, err = NewSupervised(supervision.Policy{}, 1)
	require.ErrorIs(t, err, supervision.ErrInvalidPolicy)
}
