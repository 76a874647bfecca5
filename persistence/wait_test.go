package persistence_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func timelyTs(t uint64) timely.Timestamp { return timely.Timestamp(t) }

func TestWaitForUpper(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := mem.New()
	defer st.Close()
	s, err := st.OpenShard(ctx, "s")
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.CompareAndAppend(ctx, nil, timely.Minimum(), timely.At(3)))

	// Already past: returns at once.
	upper, err := persistence.WaitForUpper(ctx, s, 2)
	require.NoError(t, err)
	require.Equal(t, timely.At(3), upper)

	// Not yet: returns once an append passes the time.
	done := make(chan timely.Frontier, 1)
	go func() {
		upper, err := persistence.WaitForUpper(ctx, s, 5)
		if err != nil {
			upper = timely.Minimum()
		}
		done <- upper
	}()
	require.NoError(t, s.CompareAndAppend(ctx, nil, timely.At(3), timely.At(5)))
	select {
	case <-done:
		t.Fatal("returned before the upper passed 5")
	case <-time.After(20 * time.Millisecond):
	}
	require.NoError(t, s.CompareAndAppend(ctx, nil, timely.At(5), timely.At(9)))
	require.Equal(t, timely.At(9), <-done)

	// A context that ends first wins.
	short, cancelShort := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancelShort()
	_, err = persistence.WaitForUpper(short, s, 100)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
