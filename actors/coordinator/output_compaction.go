package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/metrics"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// DefaultCompactionMin is the least number of a view's updates that a
// fold must replace (beyond what the last fold left) before a ShardStore
// folds that view, unless CompactionMin says otherwise.
const DefaultCompactionMin = 1024

// ShardOption configures a ShardStore.
type ShardOption func(*ShardStore) error

// CompactionMin sets the least number of updates a fold must replace
// (and at least as many as the last fold of the view left), so that
// folding costs a constant per committed update; n <= 0 means 1.
func CompactionMin(n int) ShardOption {
	return func(s *ShardStore) error {
		s.compactMin = max(n, 1)
		return nil
	}
}

// OutputMetrics registers the store's compaction metrics with reg (shared
// with another store on the same registry).
func OutputMetrics(reg prometheus.Registerer) ShardOption {
	return func(s *ShardStore) error {
		m, err := newOutputMetrics(reg)
		s.metrics = m
		return err
	}
}

// foldState is where a view's output was last folded by this store.
type foldState struct {
	frontier timely.Timestamp // the updates before it were folded to it
	rows     int              // how many updates the fold left at it
}

// fold is one view's planned fold: its updates before frontier (the
// first n of its log, sorted by time) retracted, their consolidated sum
// inserted at frontier.
type fold struct {
	view     timely.GlobalId
	frontier timely.Timestamp
	old      []dataflow.Update // retracted
	folded   []dataflow.Update // inserted, at frontier
	rest     []dataflow.Update // the log from frontier on, unchanged
}

// append adds the fold's shard updates at sequence seq.
func (f fold) append(ups []persistence.Update, seq timely.Timestamp) []persistence.Update {
	for _, u := range f.old {
		u.Diff = -u.Diff
		ups = append(ups, outputUpdate(f.view, u, seq))
	}
	for _, u := range f.folded {
		ups = append(ups, outputUpdate(f.view, u, seq))
	}
	return ups
}

// planFolds decides which views to fold in the commit being built: a
// view whose allowed frontier passed its last fold, with enough updates
// before the frontier. It loads a view's output on its first fold; a view
// that cannot be loaded is not folded in this commit. The caller holds
// s.mu.
func (s *ShardStore) planFolds(ctx context.Context, allowed map[timely.GlobalId]timely.Timestamp) []fold {
	ids := make([]timely.GlobalId, 0, len(allowed))
	for id, t := range allowed {
		if t > s.folds[id].frontier {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Compare(ids[j]) < 0 })
	var folds []fold
	for _, id := range ids {
		at := allowed[id]
		log, err := s.viewLog(ctx, id)
		if err != nil {
			// The commit goes on without this fold; the next one tries
			// again.
			s.metrics.failures.WithLabelValues("load").Inc()
			continue
		}
		n := sort.Search(len(log), func(i int) bool { return log[i].Time >= at })
		last := s.folds[id].rows
		if n-last < max(s.compactMin, last) {
			continue // not worth a rewrite yet
		}
		folds = append(folds, fold{view: id, frontier: at, old: log[:n], folded: foldAt(log[:n], at), rest: log[n:]})
	}
	return folds
}

// foldAt returns us with every time set to at, consolidated: one update
// per row whose diffs do not cancel, in row-key order.
func foldAt(us []dataflow.Update, at timely.Timestamp) []dataflow.Update {
	sums := map[string]*dataflow.Update{}
	var keys []string
	for _, u := range us {
		k := string(dataflow.AppendRowKey(nil, u.Row))
		if s, ok := sums[k]; ok {
			s.Diff += u.Diff
			continue
		}
		sums[k] = &dataflow.Update{Row: u.Row, Time: at, Diff: u.Diff}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []dataflow.Update
	for _, k := range keys {
		if s := sums[k]; s.Diff != 0 {
			out = append(out, *s)
		}
	}
	return out
}

// applyFolds records the folds of the commit at seq that landed: the
// views' logs start with their folded updates, and the shard's since
// moves to seq, so that the backend may merge and drop the history the
// folds (and the checkpoints' changes) superseded. The since is an
// optimisation: when it cannot move now, the next fold moves it further.
// The caller holds s.mu.
func (s *ShardStore) applyFolds(ctx context.Context, folds []fold, seq timely.Timestamp) {
	if len(folds) == 0 {
		return
	}
	for _, f := range folds {
		log := make([]dataflow.Update, 0, len(f.folded)+len(f.rest))
		log = append(append(log, f.folded...), f.rest...)
		if _, loaded := s.views[f.view]; loaded {
			s.views[f.view] = log
		}
		s.folds[f.view] = foldState{frontier: f.frontier, rows: len(f.folded)}
		label := f.view.String()
		s.metrics.updates.WithLabelValues(label).Add(float64(len(f.old) - len(f.folded)))
		s.metrics.bytes.WithLabelValues(label).Add(float64(updateBytes(f.view, f.old) - updateBytes(f.view, f.folded)))
		s.metrics.frontier.WithLabelValues(label).Set(float64(f.frontier))
	}
	if err := s.shard.DowngradeSince(ctx, timely.At(seq)); err != nil {
		s.metrics.failures.WithLabelValues("since").Inc()
	}
}

// updateBytes is what us take in the shard: keys and values.
func updateBytes(id timely.GlobalId, us []dataflow.Update) int {
	n := 0
	for _, u := range us {
		n += len(dataflow.AppendRowKey(outputPrefix(id), u.Row)) + 8
	}
	return n
}

// Folded returns the frontier view id's output was last folded to by
// this store (zero when it was not).
func (s *ShardStore) Folded(id timely.GlobalId) timely.Timestamp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.folds[id].frontier
}

// outputMetrics are a ShardStore's compaction metrics.
type outputMetrics struct {
	// updates and bytes count what folds removed from each view's output
	// history (the updates replaced minus those inserted), by view.
	updates *prometheus.CounterVec
	bytes   *prometheus.CounterVec
	// frontier is the frontier each view's output was last folded to.
	frontier *prometheus.GaugeVec
	// failures counts views whose output could not be loaded for a fold
	// (stage "load": the commit goes on without it) and folds after which
	// the shard's since could not move (stage "since": the next fold
	// moves it).
	failures *prometheus.CounterVec
}

func newOutputMetrics(reg prometheus.Registerer) (*outputMetrics, error) {
	m := &outputMetrics{
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "output_compacted_updates_total",
			Help: "Updates removed from a view's committed output history by compaction, by collection.",
		}, []string{"collection"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "output_compacted_bytes_total",
			Help: "Bytes (keys and values) removed from a view's committed output history by compaction, by collection.",
		}, []string{"collection"}),
		frontier: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "output_compaction_frontier",
			Help: "The frontier a view's committed output was last compacted to, by collection.",
		}, []string{"collection"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "arbor", Subsystem: "coordinator", Name: "output_compaction_failures_total",
			Help: "Output folds skipped because the view could not be loaded (stage=load), or after which the output shard's since could not move (stage=since).",
		}, []string{"stage"}),
	}
	errs := []error{
		metrics.Into(reg, &m.updates, &m.bytes, &m.failures),
		metrics.Into(reg, &m.frontier),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("coordinator: output metrics: %w", err)
	}
	return m, nil
}
