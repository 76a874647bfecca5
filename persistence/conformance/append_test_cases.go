package conformance

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

func testFreshShard(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	require.Equal(t, timely.Minimum(), upperOf(t, s))
	require.Equal(t, timely.Minimum(), sinceOf(t, s))
	_, err := s.Snapshot(ctxFor(t), 0)
	var nyr *persistence.NotYetReadableError
	require.ErrorAs(t, err, &nyr)
	require.Equal(t, timely.Minimum(), nyr.Upper)
}

func testAppendAndSnapshot(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	in := []persistence.Update{upd("b", "2", 1, 1), upd("a", "1", 0, 1)}
	appendOK(t, s, in, at(0), at(2))
	require.Equal(t, "b", string(in[0].Key), "the caller's slice is not reordered")
	require.Equal(t, at(2), upperOf(t, s))
	require.Equal(t, []string{"a=1@0:1"}, snapshot(t, s, 0))
	require.Equal(t, []string{"a=1@1:1", "b=2@1:1"}, snapshot(t, s, 1))

	// An empty append only advances the upper.
	appendOK(t, s, nil, at(2), at(10))
	require.Equal(t, at(10), upperOf(t, s))
	require.Equal(t, []string{"a=1@9:1", "b=2@9:1"}, snapshot(t, s, 9))

	// Empty keys and values are fine.
	appendOK(t, s, []persistence.Update{{Ts: 10, Diff: 3}}, at(10), at(11))
	require.Equal(t, []string{"=@10:3", "a=1@10:1", "b=2@10:1"}, snapshot(t, s, 10))
}

func testUpperMismatch(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, []persistence.Update{upd("a", "1", 0, 1)}, at(0), at(3))
	for _, expected := range []timely.Frontier{at(0), at(2), at(4)} {
		err := s.CompareAndAppend(ctxFor(t), []persistence.Update{upd("x", "x", 5, 1)}, expected, at(9))
		var m *persistence.UpperMismatchError
		require.ErrorAs(t, err, &m, "expected %s", expected)
		require.Equal(t, expected, m.Expected)
		require.Equal(t, at(3), m.Current)
	}
	require.Equal(t, at(3), upperOf(t, s), "nothing was written")
	require.Equal(t, []string{"a=1@2:1"}, snapshot(t, s, 2))
	// The current upper from the error is the one to retry at.
	appendOK(t, s, []persistence.Update{upd("b", "1", 3, 1)}, at(3), at(4))
	require.Equal(t, []string{"a=1@3:1", "b=1@3:1"}, snapshot(t, s, 3))
}

func testInvalidAppends(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, nil, at(0), at(5))
	cases := []struct {
		name          string
		updates       []persistence.Update
		expected, new timely.Frontier
		want          error
	}{
		{"ts before expected upper", []persistence.Update{upd("a", "", 4, 1)}, at(5), at(8), persistence.ErrInvalidUpdate},
		{"ts at new upper", []persistence.Update{upd("a", "", 8, 1)}, at(5), at(8), persistence.ErrInvalidUpdate},
		{"ts after new upper", []persistence.Update{upd("a", "", 5, 1), upd("b", "", 100, 1)}, at(5), at(8), persistence.ErrInvalidUpdate},
		{"new upper equals expected", nil, at(5), at(5), persistence.ErrInvalidUpper},
		{"new upper before expected", nil, at(5), at(3), persistence.ErrInvalidUpper},
		{"expected upper closed", nil, timely.Closed(), timely.Closed(), persistence.ErrInvalidUpper},
		// Invalid input is rejected even when the expected upper is wrong.
		{"invalid at a stale upper", []persistence.Update{upd("a", "", 0, 1)}, at(1), at(2), persistence.ErrInvalidUpdate},
	}
	for _, tc := range cases {
		err := s.CompareAndAppend(ctxFor(t), tc.updates, tc.expected, tc.new)
		require.ErrorIs(t, err, tc.want, tc.name)
		var m *persistence.UpperMismatchError
		require.False(t, errors.As(err, &m), tc.name)
	}
	require.Equal(t, at(5), upperOf(t, s), "nothing was written")
	require.Empty(t, snapshot(t, s, 4))
}

func testConsolidation(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, []persistence.Update{
		upd("k", "v1", 0, 1),
		upd("k", "v2", 0, 2),
		upd("j", "v", 0, 1),
		upd("j", "v", 0, -1), // cancels inside one batch
		upd("z", "0", 0, 0),  // zero diff: dropped
	}, at(0), at(1))
	appendOK(t, s, []persistence.Update{
		upd("k", "v1", 1, -1), // retraction cancels the earlier insert
		upd("k", "v2", 2, -1),
		upd("a", "x", 2, 5),
	}, at(1), at(3))
	require.Equal(t, []string{"k=v1@0:1", "k=v2@0:2"}, snapshot(t, s, 0))
	require.Equal(t, []string{"k=v2@1:2"}, snapshot(t, s, 1))
	require.Equal(t, []string{"a=x@2:5", "k=v2@2:1"}, snapshot(t, s, 2))
	appendOK(t, s, []persistence.Update{upd("a", "x", 3, -5), upd("k", "v2", 4, -1)}, at(3), at(5))
	require.Empty(t, snapshot(t, s, 4), "every zero sum is dropped")
}

func testSnapshotEdges(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, []persistence.Update{upd("a", "", 0, 1), upd("b", "", 3, 1)}, at(0), at(5))
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(2)))

	_, err := s.Snapshot(ctxFor(t), 1)
	var se *persistence.SinceError
	require.ErrorAs(t, err, &se)
	require.Equal(t, at(1), se.AsOf)
	require.Equal(t, at(2), se.Since)

	require.Equal(t, []string{"a=@2:1"}, snapshot(t, s, 2), "at since")
	require.Equal(t, []string{"a=@4:1", "b=@4:1"}, snapshot(t, s, 4), "just below upper")

	_, err = s.Snapshot(ctxFor(t), 5)
	var nyr *persistence.NotYetReadableError
	require.ErrorAs(t, err, &nyr, "at upper")
	require.Equal(t, timely.Timestamp(5), nyr.AsOf)
	require.Equal(t, at(5), nyr.Upper)
	_, err = s.Snapshot(ctxFor(t), timely.MaxTimestamp)
	require.ErrorAs(t, err, &nyr)
}

func testClosedUpper(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, []persistence.Update{upd("a", "", 3, 1), upd("b", "", timely.MaxTimestamp, 1)}, at(0), timely.Closed())
	require.Equal(t, timely.Closed(), upperOf(t, s))
	require.Equal(t, []string{"a=@3:1"}, snapshot(t, s, 3))
	require.Equal(t, []string{"a=@18446744073709551615:1", "b=@18446744073709551615:1"}, snapshot(t, s, timely.MaxTimestamp))

	err := s.CompareAndAppend(ctxFor(t), nil, timely.Closed(), timely.Closed())
	require.ErrorIs(t, err, persistence.ErrInvalidUpper)
	err = s.CompareAndAppend(ctxFor(t), nil, at(0), at(1))
	var m *persistence.UpperMismatchError
	require.ErrorAs(t, err, &m)
	require.Equal(t, timely.Closed(), m.Current)
}
