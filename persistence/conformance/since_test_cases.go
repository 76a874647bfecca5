package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

func testDowngradeSince(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, []persistence.Update{upd("a", "1", 0, 1), upd("b", "1", 1, 1)}, at(0), at(2))
	appendOK(t, s, []persistence.Update{upd("a", "1", 2, -1), upd("a", "2", 2, 1)}, at(2), at(3))
	appendOK(t, s, []persistence.Update{upd("c", "1", 3, 1), upd("b", "1", 4, -1)}, at(3), at(6))
	before := map[timely.Timestamp][]string{}
	for ts := timely.Timestamp(0); ts < 6; ts++ {
		before[ts] = snapshot(t, s, ts)
	}

	for _, since := range []timely.Timestamp{1, 3, 4} {
		require.NoError(t, s.DowngradeSince(ctxFor(t), at(since)))
		require.Equal(t, at(since), sinceOf(t, s))
		for ts := since; ts < 6; ts++ {
			require.Equal(t, before[ts], snapshot(t, s, ts), "snapshot at %d after since %d", ts, since)
		}
	}
	// The since never regresses: a lower frontier is a no-op.
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(2)))
	require.Equal(t, at(4), sinceOf(t, s))
	require.NoError(t, s.DowngradeSince(ctxFor(t), timely.Minimum()))
	require.Equal(t, at(4), sinceOf(t, s))

	// Appends after compaction still consolidate with the compacted history.
	appendOK(t, s, []persistence.Update{upd("a", "2", 6, -1)}, at(6), at(7))
	require.Equal(t, []string{"c=1@6:1"}, snapshot(t, s, 6))

	// A closed since makes every read fail; the upper still works.
	require.NoError(t, s.DowngradeSince(ctxFor(t), timely.Closed()))
	require.Equal(t, timely.Closed(), sinceOf(t, s))
	_, err := s.Snapshot(ctxFor(t), 6)
	var se *persistence.SinceError
	require.ErrorAs(t, err, &se)
	appendOK(t, s, nil, at(7), at(8))
}

func testSinceAheadOfUpper(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, []persistence.Update{upd("a", "", 1, 1)}, at(0), at(3))
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(10)))
	require.Equal(t, at(10), sinceOf(t, s))
	_, err := s.Snapshot(ctxFor(t), 2)
	var se *persistence.SinceError
	require.ErrorAs(t, err, &se)
	_, err = s.Snapshot(ctxFor(t), 10)
	var nyr *persistence.NotYetReadableError
	require.ErrorAs(t, err, &nyr)
	appendOK(t, s, []persistence.Update{upd("b", "", 5, 1)}, at(3), at(11))
	require.Equal(t, []string{"a=@10:1", "b=@10:1"}, snapshot(t, s, 10))
}
