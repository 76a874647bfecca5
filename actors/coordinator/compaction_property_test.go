package coordinator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

var (
	compactSeeds = flag.Int("coordinator.compact-seeds", 60, "number of seeds TestPropertyOutputCompaction runs (1..n)")
	compactSteps = flag.Int("coordinator.compact-steps", 300, "steps per seed in TestPropertyOutputCompaction")
)

// compactSeedEnv replays one seed of the compaction property test:
//
//	COMPACTION_SEED=17 go test ./actors/coordinator -run TestPropertyOutputCompaction -v
const compactSeedEnv = "COMPACTION_SEED"

// TestPropertyOutputCompaction runs one random history twice against a
// real ShardStore on a mem shard — once with AllowCompaction messages
// (and a fold threshold of a few updates), once without — and compares.
// A history interleaves table writes (inserts and retractions of a few
// rows, so folds cancel pairs), AllowCompaction of a random frontier for
// a random flow, answers to what is in flight, commits that fail before
// or after they land (an unknown outcome: the runtime restarts), moves of
// the shard's since that fail, drops of the reader 15 and its install
// again at its durable checkpoint, and restarts at random points (a new
// Core and a reopened store; the flows reinstalled at their durable
// checkpoints and backfilled). Flows, all materialized, output their
// input: 10 over table u1, 13 over view u10, 15 over view u13 (a reader
// of a reader), 14 over table u2. At the end both runs have the same
// checkpoints; each flow's output, advanced to the frontier it was
// folded to, is the same in both; and the readers' outputs, which were
// read from folded views, are the same without any advancing: compaction
// never moved an update a reader had already applied.
func TestPropertyOutputCompaction(t *testing.T) {
	folded := 0
	forEachSeed(t, compactSeedEnv, *compactSeeds, func(seed int64) { folded += runCompactionSeed(t, seed, *compactSteps) })
	if t.Failed() || os.Getenv(compactSeedEnv) != "" {
		return
	}
	if folded == 0 {
		t.Fatal("no seed folded any output: the test checks nothing")
	}
	t.Logf("%d seeds, %d folds", *compactSeeds, folded)
}

// faultShard injects failures into a shard: a CompareAndAppend that
// fails before writing or after writing (an unknown outcome), a
// DowngradeSince that fails. The draws come from the run's own source.
type faultShard struct {
	persistence.Shard
	mu            sync.Mutex
	failBefore    bool
	failAfter     bool
	failDowngrade bool
	downgrades    int
}

var errInjected = errors.New("injected")

func (s *faultShard) CompareAndAppend(ctx context.Context, ups []persistence.Update, expected, next timely.Frontier) error {
	s.mu.Lock()
	before, after := s.failBefore, s.failAfter
	s.failBefore, s.failAfter = false, false
	s.mu.Unlock()
	if before {
		return errInjected
	}
	if err := s.Shard.CompareAndAppend(ctx, ups, expected, next); err != nil {
		return err
	}
	if after {
		return fmt.Errorf("%w after the append landed", errInjected)
	}
	return nil
}

func (s *faultShard) DowngradeSince(ctx context.Context, since timely.Frontier) error {
	s.mu.Lock()
	fail := s.failDowngrade
	s.failDowngrade = false
	s.downgrades++
	s.mu.Unlock()
	if fail {
		return errInjected
	}
	return s.Shard.DowngradeSince(ctx, since)
}

type compactRun struct {
	compact bool
	shard   *faultShard
	store   *ShardStore
	core    *Core
	log     []dataflow.Update // table changes
	logIds  []timely.GlobalId
	upper   timely.Timestamp // the tables' upper

	submit   []pool.FlowBatch
	reads    []ReadRequest
	commit   *Commit
	register []pool.FlowId
	dropped  bool // flow 15 is dropped, to be installed again

	folds   map[timely.GlobalId]timely.Timestamp // the furthest each view may have been folded
	nfolds  int
	restart bool // an unknown commit outcome: restart before going on
}

var compactFlows = []struct {
	id     int
	source timely.GlobalId
}{{10, timely.UserId(1)}, {13, timely.UserId(10)}, {15, timely.UserId(13)}, {14, timely.UserId(2)}}

func (r *compactRun) open(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	store, err := OpenShardStore(ctx, r.shard, nil, CompactionMin(3))
	if err != nil {
		t.Fatal(err)
	}
	r.store = store
	r.core = NewCore(CoreConfig{BackfillChunk: 2, Upper: r.upper})
	r.submit, r.reads, r.commit, r.restart, r.register, r.dropped = nil, nil, nil, false, nil, false
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range compactFlows {
		kind := pool.SourceTable
		if f.source.Value >= 10 {
			kind = pool.SourceView
		}
		spec := compactSpec(t, f.id, f.source, kind)
		r.run(r.core.Install(spec, cps[spec.Id]))
	}
	for len(r.register) > 0 {
		id := r.register[0]
		r.register = r.register[1:]
		r.run(r.core.Registered(id, nil), nil)
	}
}

func compactSpec(t *testing.T, id int, source timely.GlobalId, kind pool.SourceKind) pool.FlowSpec {
	plan, err := dataflow.Compile(unionPlan([]timely.GlobalId{source}), map[timely.GlobalId]dataflow.Schema{source: oneInt})
	if err != nil {
		t.Fatal(err)
	}
	return pool.FlowSpec{Id: pool.FlowId(id), Export: timely.UserId(uint64(id)), Materialized: true, Plan: plan, Sources: []pool.Source{{Id: source, Kind: kind}}}
}

// toggle drops flow 15 (a reader of view u13), or installs it again at
// its durable checkpoint (as a replaced dataflow would be), once no
// commit is pending (the actor defers installs behind a commit).
func (r *compactRun) toggle(t *testing.T) {
	if !r.dropped {
		r.run(r.core.Drop(15))
		r.dropped = true
		return
	}
	if r.commit != nil {
		return
	}
	cps, _ := r.store.Checkpoints(context.Background())
	r.run(r.core.Install(compactSpec(t, 15, timely.UserId(13), pool.SourceView), cps[15]))
	r.dropped = false
}

func (r *compactRun) run(eff Effects, err error) {
	if err != nil {
		panic(err)
	}
	r.submit = append(r.submit, eff.Submit...)
	r.reads = append(r.reads, eff.Reads...)
	if eff.Commit != nil {
		r.commit = eff.Commit
	}
	if eff.Register != nil {
		r.register = append(r.register, eff.Register.Spec.Id)
	}
}

// step answers one thing in flight; false when nothing is.
func (r *compactRun) step(t *testing.T, rng *rand.Rand, faults bool) bool {
	switch {
	case len(r.register) > 0:
		id := r.register[0]
		r.register = r.register[1:]
		r.run(r.core.Registered(id, nil), nil)
	case r.submit != nil:
		var rs []pool.FlowResult
		for _, b := range r.submit {
			res := pool.FlowResult{Flow: b.Flow, Upper: b.Upper}
			for _, us := range b.Updates {
				res.Output = append(res.Output, us...)
			}
			rs = append(rs, res)
		}
		r.submit = nil
		r.run(r.core.Submitted(rs, nil), nil)
	case r.reads != nil:
		var rs []ReadResult
		for _, req := range r.reads {
			res := ReadResult{Flow: req.Flow, Updates: map[timely.GlobalId][]dataflow.Update{}}
			for _, s := range req.Sources {
				if s.Kind == pool.SourceView {
					us, err := r.store.ReadView(context.Background(), s.Id, req.From, req.To)
					if err != nil {
						t.Fatal(err)
					}
					res.Updates[s.Id] = us
					continue
				}
				for i, u := range r.log {
					if r.logIds[i] == s.Id && u.Time >= req.From && u.Time < req.To {
						res.Updates[s.Id] = append(res.Updates[s.Id], u)
					}
				}
			}
			rs = append(rs, res)
		}
		r.reads = nil
		r.run(r.core.ReadDone(rs), nil)
	case r.commit != nil:
		c := *r.commit
		r.commit = nil
		if faults {
			switch rng.Intn(12) {
			case 0:
				r.shard.failBefore = true
			case 1:
				r.shard.failAfter = true
			case 2:
				r.shard.failDowngrade = true
			}
		}
		err := r.store.Commit(context.Background(), c)
		if err != nil && strings.Contains(err.Error(), "after the append landed") {
			r.restart = true
		}
		for id, at := range c.Compaction {
			// A fold may land with an error (an unknown outcome), so the
			// comparison advances to what each commit allowed.
			r.folds[id] = max(r.folds[id], at)
			if err == nil && r.store.Folded(id) == at {
				r.nfolds++
			}
		}
		r.run(r.core.Committed(err, nil), nil)
	case r.core.Phase() == Idle && r.core.canBackfill():
		r.run(r.core.ContinueBackfill(), nil)
	default:
		return false
	}
	return true
}

func runCompactionSeed(t *testing.T, seed int64, steps int) int {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (replay: %s=%d go test ./actors/coordinator -run TestPropertyOutputCompaction -v): %s", seed, compactSeedEnv, seed, fmt.Sprintf(format, args...))
	}
	runs := make([]*compactRun, 2)
	for i := range runs {
		ms := mem.New()
		defer ms.Close()
		sh, err := ms.OpenShard(context.Background(), "outputs")
		if err != nil {
			t.Fatal(err)
		}
		defer sh.Close()
		r := &compactRun{compact: i == 0, shard: &faultShard{Shard: sh}, folds: map[timely.GlobalId]timely.Timestamp{}}
		r.open(t)
		// Both runs draw the same numbers, so they take the same steps.
		rng := rand.New(rand.NewSource(seed))
		live := map[string]dataflow.Update{}
		for i := 0; i < steps; i++ {
			if r.restart {
				r.open(t)
			}
			switch k := rng.Intn(20); {
			case k < 6: // the tables commit
				from := r.core.Upper()
				upper := from + timely.Timestamp(1+rng.Intn(3))
				changes := map[timely.GlobalId][]dataflow.Update{}
				for n := rng.Intn(3); n > 0; n-- {
					at := from + timely.Timestamp(rng.Intn(int(upper-from)))
					id := []timely.GlobalId{timely.UserId(1), timely.UserId(2)}[rng.Intn(2)]
					v := rng.Int63n(3)
					key := fmt.Sprint(id, v)
					u := dataflow.Update{Row: dataflow.Row{dataflow.Int64(v)}, Time: at, Diff: 1}
					if _, ok := live[key]; ok {
						u.Diff = -1 // retract it: folds cancel pairs
						delete(live, key)
					} else {
						live[key] = u
					}
					changes[id] = append(changes[id], u)
				}
				eff, err := r.core.Consume(from, upper, changes)
				if err != nil {
					// Busy: storage has the writes anyway; the next
					// Consume carries more versions (none here: undo).
					for id, us := range changes {
						for _, u := range us {
							key := fmt.Sprint(id, u.Row[0])
							if u.Diff < 0 {
								live[key] = u
							} else {
								delete(live, key)
							}
						}
					}
					continue
				}
				for id, us := range changes {
					for _, u := range us {
						r.log, r.logIds = append(r.log, u), append(r.logIds, id)
					}
				}
				r.upper = upper
				r.run(eff, nil)
			case k < 9: // the runtime allows compaction of a flow's output
				f := compactFlows[rng.Intn(len(compactFlows))]
				at := timely.Timestamp(rng.Int63n(int64(r.upper) + 1))
				// The runtime allows none while a reader it knows (15 of
				// u13) is not installed; a dropped flow allows nothing.
				if r.compact && !(r.dropped && (f.id == 13 || f.id == 15)) {
					if err := r.core.AllowCompaction(timely.UserId(uint64(f.id)), at); err != nil {
						fail("allow compaction: %v", err)
					}
				}
			case k < 10: // restart: a new Core on the reopened store
				r.open(t)
			case k < 11: // flow 15 is dropped, or installed again
				r.toggle(t)
			default:
				r.step(t, rng, true)
			}
		}
		for i := 0; r.step(t, rng, false) || r.restart || r.dropped; i++ {
			if r.restart {
				r.open(t)
			}
			if r.dropped {
				r.toggle(t)
			}
			if i > 20000 {
				fail("settling did not converge")
			}
		}
		runs[i] = r
	}

	with, without := runs[0], runs[1]
	for _, f := range compactFlows {
		id := pool.FlowId(f.id)
		_, a, _ := with.core.FlowState(id)
		_, b, _ := without.core.FlowState(id)
		if a != b || a != with.upper {
			fail("flow %d settled at %d with compaction, %d without, the table upper is %d", f.id, a, b, with.upper)
		}
		export := timely.UserId(uint64(f.id))
		at := with.folds[export]
		got, err := with.store.ReadView(context.Background(), export, 0, a)
		if err != nil {
			t.Fatal(err)
		}
		want, err := without.store.ReadView(context.Background(), export, 0, b)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := advanced(got, at), advanced(want, at); g != w {
			fail("flow %d's output as of its fold frontier %d:\n  with compaction    %s\n  without compaction %s", f.id, at, g, w)
		}
	}
	// What the readers (13 over u10, 15 over u13) read never moved under
	// them: their own outputs after the frontier their own output was
	// folded to are the same update for update.
	for _, id := range []timely.GlobalId{timely.UserId(13), timely.UserId(15)} {
		cut := with.folds[id] + 1
		got, _ := with.store.ReadView(context.Background(), id, cut, with.upper)
		want, _ := without.store.ReadView(context.Background(), id, cut, with.upper)
		if g, w := advanced(got, 0), advanced(want, 0); g != w {
			fail("reader %s from %d:\n  with compaction    %s\n  without compaction %s", id, cut, g, w)
		}
	}
	return with.nfolds
}

// advanced renders us with every time advanced to at least at,
// consolidated and sorted.
func advanced(us []dataflow.Update, at timely.Timestamp) string {
	sums := map[string]int64{}
	for _, u := range us {
		sums[fmt.Sprintf("%s@%d", u.Row, max(u.Time, at))] += u.Diff
	}
	var out []string
	for k, d := range sums {
		if d != 0 {
			out = append(out, fmt.Sprintf("%s%+d", k, d))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
