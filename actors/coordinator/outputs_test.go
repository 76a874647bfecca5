package coordinator

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

func row(i int64) dataflow.Row { return dataflow.Row{dataflow.Int64(i), dataflow.String("x")} }

// TestShardStore: commits are atomic and fenced by the shard's upper,
// checkpoints and view outputs survive a reopen, and view reads return
// exactly the committed changes in a time range.
func TestShardStore(t *testing.T) {
	ctx := context.Background()
	store := mem.New()
	defer store.Close()
	shard, err := store.OpenShard(ctx, "outputs")
	require.NoError(t, err)
	defer shard.Close()
	s, err := OpenShardStore(ctx, shard, nil)
	require.NoError(t, err)
	view := timely.UserId(11)

	require.NoError(t, s.Commit(ctx, Commit{
		Outputs:     map[timely.GlobalId][]dataflow.Update{view: {{Row: row(1), Time: 3, Diff: 1}, {Row: row(2), Time: 4, Diff: 1}}},
		Checkpoints: map[pool.FlowId]timely.Timestamp{11: 5, 12: 5},
	}))
	got, err := s.ReadView(ctx, view, 0, 5)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.NoError(t, s.Commit(ctx, Commit{
		Outputs:     map[timely.GlobalId][]dataflow.Update{view: {{Row: row(1), Time: 6, Diff: -1}}},
		Checkpoints: map[pool.FlowId]timely.Timestamp{11: 7},
	}))
	got, err = s.ReadView(ctx, view, 4, 7)
	require.NoError(t, err)
	require.Equal(t, []timely.Timestamp{4, 6}, []timely.Timestamp{got[0].Time, got[1].Time})

	// Another writer moved the upper: the commit fails and writes nothing.
	other, err := OpenShardStore(ctx, shard, nil)
	require.NoError(t, err)
	require.NoError(t, other.Commit(ctx, Commit{Checkpoints: map[pool.FlowId]timely.Timestamp{99: 1}}))
	err = s.Commit(ctx, Commit{Outputs: map[timely.GlobalId][]dataflow.Update{view: {{Row: row(3), Time: 8, Diff: 1}}}, Checkpoints: map[pool.FlowId]timely.Timestamp{11: 9}})
	var mismatch *persistence.UpperMismatchError
	require.ErrorAs(t, err, &mismatch)
	cps, err := s.Checkpoints(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 7, cps[11], "a failed commit leaves the checkpoint")

	reopened, err := OpenShardStore(ctx, shard, nil)
	require.NoError(t, err)
	cps, err = reopened.Checkpoints(ctx)
	require.NoError(t, err)
	require.Equal(t, map[pool.FlowId]timely.Timestamp{11: 7, 12: 5, 99: 1}, cps)
	got, err = reopened.ReadView(ctx, view, 0, 100)
	require.NoError(t, err)
	require.Len(t, got, 3, "the failed commit's row is not there")
}
