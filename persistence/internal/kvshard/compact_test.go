package kvshard_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func batchKeys(t *testing.T, st persistence.Store) int {
	t.Helper()
	keys := kvshard.KeysFor("", "s")
	res, err := st.(*kvshard.Store).KV().Read(context.Background(), []kvshard.Range{{Start: keys.Batch(0), End: []byte("shard/s/batch0")}})
	require.NoError(t, err)
	return len(res[0])
}

// TestPhysicalCompaction: downgrading the since rewrites the batches below
// it into one, consolidated, and the contents stay the same.
func TestPhysicalCompaction(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	defer st.Close()
	s, err := st.OpenShard(ctx, "s")
	require.NoError(t, err)
	defer s.Close()
	for i := range timely.Timestamp(10) {
		u := []persistence.Update{
			{Key: []byte("k"), Value: []byte{byte(i)}, Ts: i, Diff: 1},
		}
		if i > 0 {
			u = append(u, persistence.Update{Key: []byte("k"), Value: []byte{byte(i - 1)}, Ts: i, Diff: -1})
		}
		require.NoError(t, s.CompareAndAppend(ctx, u, timely.At(i), timely.At(i+1)))
	}
	require.Equal(t, 10, batchKeys(t, st))
	before, err := s.Snapshot(ctx, 9)
	require.NoError(t, err)

	require.NoError(t, s.DowngradeSince(ctx, timely.At(6)))
	require.Equal(t, 5, batchKeys(t, st), "batches [0,6) merged into one")
	after, err := s.Snapshot(ctx, 9)
	require.NoError(t, err)
	require.Equal(t, before, after)

	require.NoError(t, s.DowngradeSince(ctx, timely.At(10)))
	require.Equal(t, 1, batchKeys(t, st))
	require.Equal(t, []persistence.Update{{Key: []byte("k"), Value: []byte{9}, Ts: 9, Diff: 1}}, before)

	// Retractions that cancel everything leave no batch at all.
	require.NoError(t, s.CompareAndAppend(ctx, []persistence.Update{{Key: []byte("k"), Value: []byte{9}, Ts: 10, Diff: -1}}, timely.At(10), timely.At(11)))
	require.NoError(t, s.DowngradeSince(ctx, timely.At(11)))
	require.Equal(t, 0, batchKeys(t, st))
	// A closed since drops whatever is left.
	require.NoError(t, s.CompareAndAppend(ctx, []persistence.Update{{Key: []byte("x"), Ts: 11, Diff: 1}}, timely.At(11), timely.At(12)))
	require.NoError(t, s.DowngradeSince(ctx, timely.Closed()))
	require.Equal(t, 0, batchKeys(t, st))
}
