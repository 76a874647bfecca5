package coordinator

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// ShardStore is a Store that keeps every materialized view's output and
// every flow's checkpoint in one persistence shard, so that one
// CompareAndAppend commits a whole step atomically, and reads tables
// through a TableReader.
//
// Layout. The shard's time is a commit sequence number: commit n appends
// at time n and moves the upper from n to n+1, so that a backfilling flow
// can commit output at old times. Output rows are keys "o" + collection
// id + the row's key (dataflow.AppendRowKey), with the row's time (8 bytes
// big-endian) as value;
// checkpoints are keys "c" + flow id with the checkpoint as value, the old
// value retracted in the same commit.
//
// The coordinator owns the shard: a commit that finds another upper fails
// (*persistence.UpperMismatchError) and writes nothing. Methods are safe
// for concurrent use (workers read views while the coordinator commits).
//
// Compaction (compaction.go). A commit may carry, per view, a frontier
// its committed output may be folded to (Commit.Compaction); when enough
// output lies below it, the same append retracts every update before the
// frontier and inserts their consolidated sum at the frontier, and the
// shard's since then moves to that commit's sequence number, so the
// backend merges and drops the superseded history (and the checkpoints'
// old values). A fold is part of one atomic commit: a restart at any
// point finds either the history before it or the history after it.
type ShardStore struct {
	shard  persistence.Shard
	tables TableReader

	// constant after OpenShardStore
	compactMin int
	metrics    *outputMetrics

	mu          sync.Mutex
	upper       uint64 // the shard's upper as of our last commit
	checkpoints map[pool.FlowId]timely.Timestamp
	// views caches the committed output of each view read so far, sorted
	// by time: loaded from the shard on the first read, extended by every
	// commit after it, so that backfill reads cost what they return.
	views map[timely.GlobalId][]dataflow.Update
	// folds is, per view, where this store last folded its output
	// (compaction.go).
	folds map[timely.GlobalId]foldState
}

// OpenShardStore opens the store on shard, reading its committed
// checkpoints. tables serves table reads. It fails when the shard cannot
// be read or an option's metrics cannot be registered.
func OpenShardStore(ctx context.Context, shard persistence.Shard, tables TableReader, opts ...ShardOption) (*ShardStore, error) {
	s := &ShardStore{
		shard: shard, tables: tables, compactMin: DefaultCompactionMin,
		checkpoints: map[pool.FlowId]timely.Timestamp{}, views: map[timely.GlobalId][]dataflow.Update{},
		folds: map[timely.GlobalId]foldState{},
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, fmt.Errorf("open output shard: %w", err)
		}
	}
	if s.metrics == nil {
		s.metrics, _ = newOutputMetrics(nil)
	}
	upper, err := shard.Upper(ctx)
	if err != nil {
		return nil, fmt.Errorf("open output shard: %w", err)
	}
	u, ok := upper.Time()
	if !ok {
		return nil, fmt.Errorf("open output shard: its upper is closed")
	}
	s.upper = uint64(u)
	if u == 0 {
		return s, nil
	}
	snap, err := shard.Snapshot(ctx, u-1)
	if err != nil {
		return nil, fmt.Errorf("open output shard: %w", err)
	}
	for _, up := range snap {
		if len(up.Key) == 9 && up.Key[0] == 'c' && up.Diff > 0 && len(up.Value) == 8 {
			id := pool.FlowId(binary.BigEndian.Uint64(up.Key[1:]))
			s.checkpoints[id] = timely.Timestamp(binary.BigEndian.Uint64(up.Value))
		}
	}
	return s, nil
}

// outputUpdate is u of view id as a shard update at sequence seq.
func outputUpdate(id timely.GlobalId, u dataflow.Update, seq timely.Timestamp) persistence.Update {
	key := dataflow.AppendRowKey(outputPrefix(id), u.Row)
	return persistence.Update{Key: key, Value: timeValue(u.Time), Ts: seq, Diff: u.Diff}
}

func outputPrefix(id timely.GlobalId) []byte {
	k := []byte{'o', byte(id.Kind)}
	return binary.BigEndian.AppendUint64(k, id.Value)
}

func checkpointKey(id pool.FlowId) []byte {
	return binary.BigEndian.AppendUint64([]byte{'c'}, uint64(id))
}

func timeValue(t timely.Timestamp) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t))
}

// Commit appends c at the next sequence number, with the folds of the
// views whose output c.Compaction lets it compact (compaction.go). It
// holds the store's lock until the shard answers or ctx ends.
func (s *ShardStore) Commit(ctx context.Context, c Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := timely.Timestamp(s.upper)
	folds := s.planFolds(ctx, c.Compaction)
	var ups []persistence.Update
	for id, us := range c.Outputs {
		for _, u := range us {
			ups = append(ups, outputUpdate(id, u, seq))
		}
	}
	for _, f := range folds {
		ups = f.append(ups, seq)
	}
	for id, t := range c.Checkpoints {
		if old, ok := s.checkpoints[id]; ok {
			if old == t {
				continue
			}
			ups = append(ups, persistence.Update{Key: checkpointKey(id), Value: timeValue(old), Ts: seq, Diff: -1})
		}
		ups = append(ups, persistence.Update{Key: checkpointKey(id), Value: timeValue(t), Ts: seq, Diff: 1})
	}
	err := s.shard.CompareAndAppend(ctx, ups, timely.At(seq), timely.At(seq+1))
	if err != nil {
		return fmt.Errorf("commit %d output and %d checkpoint changes at sequence %d: %w", len(ups)-len(c.Checkpoints), len(c.Checkpoints), seq, err)
	}
	s.upper++
	for id, t := range c.Checkpoints {
		s.checkpoints[id] = t
	}
	s.applyFolds(ctx, folds, seq)
	for id, us := range c.Outputs {
		if log, ok := s.views[id]; ok {
			s.views[id] = appendByTime(log, us)
		}
	}
	return nil
}

// appendByTime appends us to log, keeping it sorted by time.
func appendByTime(log, us []dataflow.Update) []dataflow.Update {
	n := len(log)
	log = append(log, us...)
	if !sort.SliceIsSorted(log[n:], func(i, j int) bool { return log[n+i].Time < log[n+j].Time }) ||
		(n > 0 && len(us) > 0 && minTime(us) < log[n-1].Time) {
		sort.SliceStable(log, func(i, j int) bool { return log[i].Time < log[j].Time })
	}
	return log
}

func minTime(us []dataflow.Update) timely.Timestamp {
	m := us[0].Time
	for _, u := range us[1:] {
		m = min(m, u.Time)
	}
	return m
}

// Checkpoints returns the committed checkpoints (kept in memory; ctx is
// unused).
func (s *ShardStore) Checkpoints(context.Context) (map[pool.FlowId]timely.Timestamp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[pool.FlowId]timely.Timestamp, len(s.checkpoints))
	for id, t := range s.checkpoints {
		out[id] = t
	}
	return out, nil
}

// Read reads a table or a storage collection through the TableReader
// (storage answers a collection's range up to its own upper), or a view's
// committed output.
func (s *ShardStore) Read(ctx context.Context, src pool.Source, from, to timely.Timestamp) ([]dataflow.Update, error) {
	if src.Kind == pool.SourceTable || src.Kind == pool.SourceCollection {
		return s.tables.ReadTable(ctx, src.Id, from, to)
	}
	return s.ReadView(ctx, src.Id, from, to)
}

// ReadView returns the committed output of view id with from <= time <
// to.
func (s *ShardStore) ReadView(ctx context.Context, id timely.GlobalId, from, to timely.Timestamp) ([]dataflow.Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	log, err := s.viewLog(ctx, id)
	if err != nil {
		return nil, err
	}
	i := sort.Search(len(log), func(i int) bool { return log[i].Time >= from })
	var out []dataflow.Update
	for ; i < len(log) && log[i].Time < to; i++ {
		out = append(out, log[i])
	}
	return out, nil
}

// viewLog returns view id's committed output sorted by time, loading it
// on first use. The caller holds s.mu.
func (s *ShardStore) viewLog(ctx context.Context, id timely.GlobalId) ([]dataflow.Update, error) {
	log, ok := s.views[id]
	if !ok {
		var err error
		if log, err = s.loadView(ctx, id); err != nil {
			return nil, err
		}
		s.views[id] = log
	}
	return log, nil
}

// loadView reads a view's committed output from the shard, sorted by
// time. The caller holds s.mu, so no commit interleaves.
func (s *ShardStore) loadView(ctx context.Context, id timely.GlobalId) ([]dataflow.Update, error) {
	if s.upper == 0 {
		return nil, nil
	}
	snap, err := s.shard.Snapshot(ctx, timely.Timestamp(s.upper-1))
	if err != nil {
		return nil, fmt.Errorf("read view %s: %w", id, err)
	}
	prefix := outputPrefix(id)
	var out []dataflow.Update
	for _, up := range snap {
		if len(up.Key) < len(prefix) || string(up.Key[:len(prefix)]) != string(prefix) || len(up.Value) != 8 {
			continue
		}
		row, err := dataflow.DecodeRowKey(up.Key[len(prefix):])
		if err != nil {
			return nil, fmt.Errorf("read view %s: decode row: %w", id, err)
		}
		t := timely.Timestamp(binary.BigEndian.Uint64(up.Value))
		out = append(out, dataflow.Update{Row: row, Time: t, Diff: up.Diff})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out, nil
}
