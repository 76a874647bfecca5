package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// testConcurrentCompareAndAppend races writers, each with its own handle, at
// the same uppers: exactly one wins each upper, and the shard holds exactly
// the winners' updates.
func testConcurrentCompareAndAppend(t *testing.T, h Harness) {
	st, s := openShard(t, h)
	const writers, rounds = 4, 15
	var wg sync.WaitGroup
	wins := make([]int, writers)
	errs := make(chan error, writers)
	for w := range writers {
		hs, err := st.OpenShard(ctxFor(t), "test")
		require.NoError(t, err)
		defer hs.Close()
		wg.Go(func() {
			ctx := ctxFor(t)
			for r := 0; r < rounds; r++ {
				upper, err := hs.Upper(ctx)
				if err != nil {
					errs <- err
					return
				}
				ts, _ := upper.Time()
				for {
					u := upd(fmt.Sprintf("w%d", w), fmt.Sprintf("r%d", r), ts, 1)
					err := hs.CompareAndAppend(ctx, []persistence.Update{u}, timely.At(ts), timely.At(ts+1))
					var m *persistence.UpperMismatchError
					if errors.As(err, &m) {
						ts, _ = m.Current.Time() // lost this upper: try the next one
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					wins[w]++
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	total := writers * rounds
	require.Equal(t, at(timely.Timestamp(total)), upperOf(t, s))
	// One update per time: each upper had exactly one winner.
	l, err := s.Listen(ctxFor(t), timely.Minimum())
	require.NoError(t, err)
	defer l.Close()
	ev := next(t, l)
	require.Len(t, ev.Updates, total)
	perWriter := make([]int, writers)
	for i, u := range ev.Updates {
		require.Equal(t, timely.Timestamp(i), u.Ts)
		var w int
		_, err := fmt.Sscanf(string(u.Key), "w%d", &w)
		require.NoError(t, err)
		perWriter[w]++
	}
	require.Equal(t, wins, perWriter)
}

func testHandlesAndNames(t *testing.T, h Harness) {
	st, a := openShard(t, h)
	ctx := ctxFor(t)
	b, err := st.OpenShard(ctx, "test")
	require.NoError(t, err)
	defer b.Close()
	other, err := st.OpenShard(ctx, "other.shard_1-x")
	require.NoError(t, err)
	defer other.Close()

	appendOK(t, a, []persistence.Update{upd("a", "", 0, 1)}, at(0), at(1))
	require.Equal(t, at(1), upperOf(t, b), "handles to one name share the shard")
	require.Equal(t, timely.Minimum(), upperOf(t, other), "names are independent")
	appendOK(t, other, []persistence.Update{upd("o", "", 0, 1)}, at(0), at(1))
	require.Equal(t, []string{"a=@0:1"}, snapshot(t, b, 0))
	require.Equal(t, []string{"o=@0:1"}, snapshot(t, other, 0))

	// A name that is a prefix of another stays separate.
	pre, err := st.OpenShard(ctx, "tes")
	require.NoError(t, err)
	defer pre.Close()
	require.Equal(t, timely.Minimum(), upperOf(t, pre))

	for _, bad := range []string{"", "a/b", "a b", "ü", string(make([]byte, 129))} {
		_, err := st.OpenShard(ctx, bad)
		require.ErrorIs(t, err, persistence.ErrInvalidShardName, "%q", bad)
	}
}

func testClosedHandles(t *testing.T, h Harness) {
	st := h.NewStore(t)
	ctx := ctxFor(t)
	s, err := st.OpenShard(ctx, "test")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = s.Upper(ctx)
	require.ErrorIs(t, err, persistence.ErrClosed)
	require.ErrorIs(t, s.CompareAndAppend(ctx, nil, at(0), at(1)), persistence.ErrClosed)
	_, err = s.Snapshot(ctx, 0)
	require.ErrorIs(t, err, persistence.ErrClosed)
	_, err = s.Listen(ctx, at(0))
	require.ErrorIs(t, err, persistence.ErrClosed)
	require.ErrorIs(t, s.DowngradeSince(ctx, at(1)), persistence.ErrClosed)

	s2, err := st.OpenShard(ctx, "test")
	require.NoError(t, err)
	require.NoError(t, st.Close())
	_, err = s2.Upper(ctx)
	require.ErrorIs(t, err, persistence.ErrClosed)
	_, err = st.OpenShard(ctx, "test")
	require.ErrorIs(t, err, persistence.ErrClosed)
	require.NoError(t, s2.Close())
}
