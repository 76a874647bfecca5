package coordinator

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestShardStoreFold: a commit whose Compaction lets a view be folded
// replaces the updates before the frontier by their consolidated sum at
// it (cancelling pairs vanish), in the same append as the commit's own
// outputs; reads after the frontier are unchanged, a reopened store reads
// the same, the shard's since moved, and the metrics count what went.
// Below the threshold nothing is folded.
func TestShardStoreFold(t *testing.T) {
	ctx := context.Background()
	ms := mem.New()
	defer ms.Close()
	shard, err := ms.OpenShard(ctx, "outputs")
	require.NoError(t, err)
	defer shard.Close()
	reg := prometheus.NewRegistry()
	s, err := OpenShardStore(ctx, shard, nil, CompactionMin(3), OutputMetrics(reg))
	require.NoError(t, err)
	view := timely.UserId(11)
	commit := func(c Commit) {
		t.Helper()
		require.NoError(t, s.Commit(ctx, c))
	}
	commit(Commit{Outputs: map[timely.GlobalId][]dataflow.Update{view: {
		{Row: row(1), Time: 1, Diff: 1}, {Row: row(2), Time: 2, Diff: 1},
	}}, Checkpoints: map[pool.FlowId]timely.Timestamp{11: 3}})
	// Two updates before 3: under the threshold of 3, nothing happens.
	commit(Commit{Outputs: map[timely.GlobalId][]dataflow.Update{view: {
		{Row: row(1), Time: 4, Diff: -1}, {Row: row(3), Time: 5, Diff: 1}, {Row: row(3), Time: 6, Diff: 2},
	}}, Checkpoints: map[pool.FlowId]timely.Timestamp{11: 7}, Compaction: map[timely.GlobalId]timely.Timestamp{view: 3}})
	require.Zero(t, s.Folded(view))
	// Folding to 6: rows 1 (+1 at 1, -1 at 4) cancel, 2 and 3 move to 6;
	// 3's update at 6 stays; the commit's own output at 8 comes after.
	commit(Commit{Outputs: map[timely.GlobalId][]dataflow.Update{view: {{Row: row(4), Time: 8, Diff: 1}}},
		Checkpoints: map[pool.FlowId]timely.Timestamp{11: 9}, Compaction: map[timely.GlobalId]timely.Timestamp{view: 6}})
	require.EqualValues(t, 6, s.Folded(view))
	want := `(2, "x")@6+1 (3, "x")@6+3 (4, "x")@8+1`
	got, err := s.ReadView(ctx, view, 0, 9)
	require.NoError(t, err)
	require.Equal(t, want, advanced(got, 0))
	got, err = s.ReadView(ctx, view, 7, 9)
	require.NoError(t, err)
	require.Equal(t, `(4, "x")@8+1`, advanced(got, 0), "reads after the frontier are unchanged")

	since, err := shard.Since(ctx)
	require.NoError(t, err)
	require.Equal(t, timely.At(2), since, "the since moved to the folding commit")
	reopened, err := OpenShardStore(ctx, shard, nil)
	require.NoError(t, err)
	got, err = reopened.ReadView(ctx, view, 0, 9)
	require.NoError(t, err)
	require.Equal(t, want, advanced(got, 0))
	cps, err := reopened.Checkpoints(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 9, cps[11])

	// The 4 updates before 6 became 2.
	require.EqualValues(t, 2, testutil.ToFloat64(s.metrics.updates.WithLabelValues(view.String())))
	require.Positive(t, testutil.ToFloat64(s.metrics.bytes.WithLabelValues(view.String())))
	require.EqualValues(t, 6, testutil.ToFloat64(s.metrics.frontier.WithLabelValues(view.String())))
}

// TestShardStoreFoldFailsWhole: a commit that carries a fold and fails
// (its upper moved) writes nothing, folds nothing, and leaves the reads
// as they were.
func TestShardStoreFoldFailsWhole(t *testing.T) {
	ctx := context.Background()
	ms := mem.New()
	defer ms.Close()
	shard, err := ms.OpenShard(ctx, "outputs")
	require.NoError(t, err)
	defer shard.Close()
	s, err := OpenShardStore(ctx, shard, nil, CompactionMin(1))
	require.NoError(t, err)
	view := timely.UserId(11)
	require.NoError(t, s.Commit(ctx, Commit{Outputs: map[timely.GlobalId][]dataflow.Update{view: {{Row: row(1), Time: 1, Diff: 1}, {Row: row(1), Time: 2, Diff: -1}}},
		Checkpoints: map[pool.FlowId]timely.Timestamp{11: 3}}))
	other, err := OpenShardStore(ctx, shard, nil)
	require.NoError(t, err)
	require.NoError(t, other.Commit(ctx, Commit{Checkpoints: map[pool.FlowId]timely.Timestamp{12: 1}}))
	err = s.Commit(ctx, Commit{Checkpoints: map[pool.FlowId]timely.Timestamp{11: 4}, Compaction: map[timely.GlobalId]timely.Timestamp{view: 3}})
	var mismatch *persistence.UpperMismatchError
	require.ErrorAs(t, err, &mismatch)
	require.Zero(t, s.Folded(view))
	got, err := s.ReadView(ctx, view, 0, 3)
	require.NoError(t, err)
	require.Len(t, got, 2)
	since, err := shard.Since(ctx)
	require.NoError(t, err)
	require.Equal(t, timely.Minimum(), since)
}

// TestOutputShardStopsGrowing: a view on Pebble whose ten rows are each
// replaced at every commit (a steady update load), with its readers
// allowing compaction up to the last commit. Without compaction the
// updates the shard holds (read from its since: the consolidated state
// there, then every later batch) grow with the commits; with it they stop
// growing: the second half of the run ends with no more than the first.
func TestOutputShardStopsGrowing(t *testing.T) {
	const commits, rows = 400, 10
	run := func(compact bool) (half, end int) {
		ctx := context.Background()
		ps, err := pebble.Open(t.TempDir())
		require.NoError(t, err)
		defer ps.Close()
		shard, err := ps.OpenShard(ctx, "outputs")
		require.NoError(t, err)
		defer shard.Close()
		s, err := OpenShardStore(ctx, shard, nil, CompactionMin(2*rows))
		require.NoError(t, err)
		view := timely.UserId(11)
		size := func() int {
			since, err := shard.Since(ctx)
			require.NoError(t, err)
			upper, err := shard.Upper(ctx)
			require.NoError(t, err)
			lo, _ := since.Time()
			hi, _ := upper.Time()
			us, err := shard.ReadRange(ctx, lo, hi)
			require.NoError(t, err)
			return len(us)
		}
		for i := 1; i <= commits; i++ {
			at := timely.Timestamp(i)
			var out []dataflow.Update
			for r := int64(0); r < rows; r++ {
				if i > 1 {
					out = append(out, dataflow.Update{Row: dataflow.Row{dataflow.Int64(r), dataflow.Int64(int64(i - 1))}, Time: at, Diff: -1})
				}
				out = append(out, dataflow.Update{Row: dataflow.Row{dataflow.Int64(r), dataflow.Int64(int64(i))}, Time: at, Diff: 1})
			}
			c := Commit{Outputs: map[timely.GlobalId][]dataflow.Update{view: out}, Checkpoints: map[pool.FlowId]timely.Timestamp{11: at + 1}}
			if compact {
				c.Compaction = map[timely.GlobalId]timely.Timestamp{view: at}
			}
			require.NoError(t, s.Commit(ctx, c))
			if i == commits/2 {
				half = size()
			}
		}
		got, err := s.ReadView(ctx, view, 0, commits+1)
		require.NoError(t, err)
		require.Equal(t, rows, len(consolidatedRows(got)), "the view holds its ten rows either way")
		return half, size()
	}
	half, end := run(false)
	t.Logf("without compaction: %d updates after %d commits, %d after %d", half, commits/2, end, commits)
	require.Greater(t, end, half*3/2, "without compaction the shard grows")
	half, end = run(true)
	t.Logf("with compaction: %d updates after %d commits, %d after %d", half, commits/2, end, commits)
	require.LessOrEqual(t, end, half, "with compaction the shard stops growing")
	require.Less(t, end, 20*rows)
}

func consolidatedRows(us []dataflow.Update) map[string]int64 {
	out := map[string]int64{}
	for _, u := range us {
		out[u.Row.String()] += u.Diff
		if out[u.Row.String()] == 0 {
			delete(out, u.Row.String())
		}
	}
	return out
}

// TestAllowCompactionBadInput: an AllowCompaction for an export no flow
// has is refused with NOT_FOUND naming it, one for a flow that is not
// materialized with INVALID_ARGUMENT; a frontier before the last one
// changes nothing.
func TestAllowCompactionBadInput(t *testing.T) {
	sys := testkit.NewSystem(t)
	poolProbe := testkit.NewProbe(t, sys)
	client := testkit.NewProbe(t, sys)
	props, err := New(Config{Pool: poolProbe.PID(), Store: &memStore{}, Logger: testkit.QuietLogger()})
	require.NoError(t, err)
	coord := sys.Root.Spawn(props)
	client.Send(coord, &InstallFlow{Spec: tableSpec(t, 10)})
	require.NoError(t, testkit.ExpectMsg[*InstallFlowReply](client, testkit.DefaultTimeout).Err)

	client.Send(coord, &AllowCompaction{Export: timely.UserId(99), Frontier: 5})
	r := testkit.ExpectMsg[*AllowCompactionReply](client, testkit.DefaultTimeout)
	require.ErrorIs(t, r.Err, ErrUnknownFlow)
	require.Equal(t, messages.ErrorCode_ERROR_CODE_NOT_FOUND, messages.ErrorToWire(r.Err).GetCode())
	require.Contains(t, r.Err.Error(), "u99")

	client.Send(coord, &AllowCompaction{Export: timely.UserId(10), Frontier: 5})
	r = testkit.ExpectMsg[*AllowCompactionReply](client, testkit.DefaultTimeout)
	require.ErrorIs(t, r.Err, ErrInvalidFlow)
	require.Equal(t, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, messages.ErrorToWire(r.Err).GetCode())

	core := NewCore(CoreConfig{})
	spec := tableSpec(t, 11)
	spec.Materialized = true
	_, err = core.Install(spec, 8)
	require.NoError(t, err)
	require.NoError(t, core.AllowCompaction(spec.Export, 6))
	require.NoError(t, core.AllowCompaction(spec.Export, 3))
	require.EqualValues(t, 6, core.FoldFrontier(spec.Export), "a frontier never regresses")
}

// failingSnapshot is a shard whose snapshots fail once fail is set.
type failingSnapshot struct {
	persistence.Shard
	fail bool
}

func (s *failingSnapshot) Snapshot(ctx context.Context, at timely.Timestamp) ([]persistence.Update, error) {
	if s.fail {
		return nil, errInjected
	}
	return s.Shard.Snapshot(ctx, at)
}

// TestShardStoreFoldLoadFails: a view whose output cannot be loaded for a
// fold is not folded, and the commit carrying the fold goes on.
func TestShardStoreFoldLoadFails(t *testing.T) {
	ctx := context.Background()
	ms := mem.New()
	defer ms.Close()
	shard, err := ms.OpenShard(ctx, "outputs")
	require.NoError(t, err)
	defer shard.Close()
	s, err := OpenShardStore(ctx, shard, nil, CompactionMin(1))
	require.NoError(t, err)
	view := timely.UserId(11)
	require.NoError(t, s.Commit(ctx, Commit{Outputs: map[timely.GlobalId][]dataflow.Update{view: {{Row: row(1), Time: 1, Diff: 1}}},
		Checkpoints: map[pool.FlowId]timely.Timestamp{11: 2}}))

	failing := &failingSnapshot{Shard: shard}
	broken, err := OpenShardStore(ctx, failing, nil, CompactionMin(1))
	require.NoError(t, err)
	failing.fail = true
	require.NoError(t, broken.Commit(ctx, Commit{Checkpoints: map[pool.FlowId]timely.Timestamp{11: 3}, Compaction: map[timely.GlobalId]timely.Timestamp{view: 2}}))
	require.Zero(t, broken.Folded(view))
	require.EqualValues(t, 1, testutil.ToFloat64(broken.metrics.failures.WithLabelValues("load")))
	cps, err := broken.Checkpoints(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, cps[11])
}
