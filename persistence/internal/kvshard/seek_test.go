package kvshard_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

// hookKV runs between once, right after the first Read that seeks (the one
// with the most ranges), so a test can change the shard between a seek's
// reads.
type hookKV struct {
	kvshard.KV
	between func()
}

func (h *hookKV) Read(ctx context.Context, ranges []kvshard.Range) ([][]kvshard.KeyValue, error) {
	res, err := h.KV.Read(ctx, ranges)
	if len(ranges) == 5 && h.between != nil {
		f := h.between
		h.between = nil
		f()
	}
	return res, err
}

func show(us []persistence.Update) []string {
	var out []string
	for _, u := range us {
		out = append(out, fmt.Sprintf("%s@%d:%d", u.Key, u.Ts, u.Diff))
	}
	return out
}

// setup opens one shard over a hookKV, and a second handle that writes
// through the plain KV (so its calls run no hook).
func setup(t *testing.T) (*hookKV, persistence.Shard, persistence.Shard) {
	t.Helper()
	inner := mem.New().(*kvshard.Store).KV()
	h := &hookKV{KV: inner}
	ctx := context.Background()
	reader, err := kvshard.NewStore(h, "").OpenShard(ctx, "s")
	require.NoError(t, err)
	writer, err := kvshard.NewStore(inner, "").OpenShard(ctx, "s")
	require.NoError(t, err)
	t.Cleanup(func() { reader.Close(); writer.Close(); inner.Close() })
	return h, reader, writer
}

func appendOK(t *testing.T, s persistence.Shard, key string, ts, lower, upper timely.Timestamp) {
	t.Helper()
	ups := []persistence.Update{{Key: []byte(key), Ts: ts, Diff: 1}}
	require.NoError(t, s.CompareAndAppend(context.Background(), ups, timely.At(lower), timely.At(upper)))
}

// TestSeekSeesAppendBetweenReads: a listen from beyond the upper finds no
// batch to seek to; a batch appended before its second read starts below
// from and must still be read.
func TestSeekSeesAppendBetweenReads(t *testing.T) {
	ctx := context.Background()
	h, reader, writer := setup(t)
	appendOK(t, writer, "a", 1, 0, 5)
	h.between = func() { appendOK(t, writer, "b", 8, 5, 9) }
	l, err := reader.Listen(ctx, timely.At(7))
	require.NoError(t, err)
	defer l.Close()
	ev, err := l.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"b@8:1"}, show(ev.Updates))
	require.Equal(t, timely.At(9), ev.Progress)
}

// TestSeekSinceReachesFromBetweenReads: when the since moves up to from
// between the reads, the contents as of since (every older batch) are read.
func TestSeekSinceReachesFromBetweenReads(t *testing.T) {
	ctx := context.Background()
	h, reader, writer := setup(t)
	appendOK(t, writer, "a", 1, 0, 3)
	appendOK(t, writer, "b", 4, 3, 6)
	h.between = func() { require.NoError(t, writer.DowngradeSince(ctx, timely.At(4))) }
	got, err := reader.ReadRange(ctx, 4, 6)
	require.NoError(t, err)
	require.Equal(t, []string{"a@4:1", "b@4:1"}, show(got))
}

// TestCompactionDropsEndKeys: compaction removes the end keys of the
// batches it merges, so the index stays as small as the history.
func TestCompactionDropsEndKeys(t *testing.T) {
	ctx := context.Background()
	h, _, s := setup(t)
	for i := range timely.Timestamp(10) {
		appendOK(t, s, "k", i, i, i+1)
	}
	keys := kvshard.KeysFor("", "s")
	ends := func() int {
		t.Helper()
		res, err := h.KV.Read(ctx, []kvshard.Range{{Start: keys.End(timely.Minimum()), End: []byte("shard/s/end0")}})
		require.NoError(t, err)
		return len(res[0])
	}
	require.Equal(t, 10, ends())
	require.NoError(t, s.DowngradeSince(ctx, timely.At(6)))
	require.Equal(t, 4, ends(), "batches ending after 6 keep theirs")
	require.NoError(t, s.DowngradeSince(ctx, timely.Closed()))
	require.Equal(t, 0, ends())
}

// countKV counts the pairs its reads return.
type countKV struct {
	kvshard.KV
	pairs int
}

func (c *countKV) Read(ctx context.Context, ranges []kvshard.Range) ([][]kvshard.KeyValue, error) {
	res, err := c.KV.Read(ctx, ranges)
	for _, r := range res {
		c.pairs += len(r)
	}
	return res, err
}

// TestSeekReadsOnlyTheWindow: a range read and a listen from near the end
// of a long shard read the batches around the window and a few meta keys,
// never the history: the deterministic form of the read-cost benchmark.
func TestSeekReadsOnlyTheWindow(t *testing.T) {
	ctx := context.Background()
	inner := mem.New().(*kvshard.Store).KV()
	c := &countKV{KV: inner}
	st := kvshard.NewStore(c, "")
	defer st.Close()
	s, err := st.OpenShard(ctx, "s")
	require.NoError(t, err)
	defer s.Close()
	const n = 2000
	for i := range timely.Timestamp(n) {
		// Batches of width 2, one update each, at the batch's second time.
		ups := []persistence.Update{{Key: []byte("k"), Ts: 2*i + 1, Diff: 1}}
		require.NoError(t, s.CompareAndAppend(ctx, ups, timely.At(2*i), timely.At(2*i+2)))
	}

	// [2n-9, 2n-1): starts inside a batch, ends inside another: 5 batches.
	c.pairs = 0
	got, err := s.ReadRange(ctx, 2*n-9, 2*n-1)
	require.NoError(t, err)
	require.Len(t, got, 4)
	// Two reads: upper, since, indexed, one end key and the batches from
	// 2n-9 on; then upper, since and the batches from the straddler on.
	require.LessOrEqual(t, c.pairs, 16, "pairs read for a 5-batch window")

	c.pairs = 0
	l, err := s.Listen(ctx, timely.At(2*n-9))
	require.NoError(t, err)
	ev, err := l.Next(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.Len(t, ev.Updates, 5)
	require.LessOrEqual(t, c.pairs, 18, "pairs read by a listen from near the end")
}
