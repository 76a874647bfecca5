package coordinator

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

var (
	sourceSeeds = flag.Int("coordinator.seeds", 200, "number of seeds TestPropertySourceFrontiers runs (1..n)")
	sourceSteps = flag.Int("coordinator.steps", 200, "steps per seed in TestPropertySourceFrontiers")
)

// sourceSeedEnv replays one seed of the property test:
//
//	COORDINATOR_SEED=17 go test ./actors/coordinator -run TestPropertySourceFrontiers -v
const sourceSeedEnv = "COORDINATOR_SEED"

// TestPropertySourceFrontiers drives a Core (through the scripted tests'
// harness: a pool whose materialized flows output their input, a store
// that reads a log) with random interleavings of table Consumes, appends
// and progress of storage collection u20, and answers to what is in
// flight, a tenth of them failures (a batch, a read, a commit); the
// collection's changes come with its progress (now and then with a gap, as
// after a resubscription), and reads the coordinator serves from them are
// taken as it serves them. Flows:
// 10 over table u1, 11 over collection u20, 12 over both, 13 over view u10
// and u20, 14 over table u2 — all materialized. After every step no
// checkpoint passes its flow's input frontier; at the end, after
// settling, every flow's committed output equals what its sources hold
// below its checkpoint (nothing doubled or lost through failures and
// retries), every flow reached its input frontier, and the flows over
// tables only reached the table upper whatever the collection did.
func TestPropertySourceFrontiers(t *testing.T) {
	forEachSeed(t, sourceSeedEnv, *sourceSeeds, func(seed int64) { runSourceSeed(t, seed, *sourceSteps) })
}

// forEachSeed runs seeds 1..n in turn, stopping at the first that fails,
// or only the seed the environment variable env names (a replay).
func forEachSeed(t *testing.T, env string, n int, run func(seed int64)) {
	t.Helper()
	if s := os.Getenv(env); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", env, s, err)
		}
		run(seed)
		return
	}
	for seed := int64(1); seed <= int64(n); seed++ {
		run(seed)
		if t.Failed() {
			return
		}
	}
}

var (
	u1, u2, u20 = timely.UserId(1), timely.UserId(2), timely.UserId(20)
)

func runSourceSeed(t *testing.T, seed int64, steps int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (replay: %s=%d go test ./actors/coordinator -run TestPropertySourceFrontiers): %s", seed, sourceSeedEnv, seed, fmt.Sprintf(format, args...))
	}
	rng := rand.New(rand.NewSource(seed))
	h := &script{core: NewCore(CoreConfig{BackfillChunk: 1 + rng.Intn(3)}), committed: map[timely.GlobalId][]dataflow.Update{}}
	var sink strings.Builder
	run := func(eff Effects) { h.print(&sink, eff); sink.Reset() }

	flows := []struct {
		id      int
		sources []timely.GlobalId
	}{{10, []timely.GlobalId{u1}}, {11, []timely.GlobalId{u20}}, {12, []timely.GlobalId{u1, u20}}, {13, []timely.GlobalId{timely.UserId(10), u20}}, {14, []timely.GlobalId{u2}}}
	for _, f := range flows {
		spec := pool.FlowSpec{Id: pool.FlowId(f.id), Export: timely.UserId(uint64(f.id)), Materialized: true}
		schemas := map[timely.GlobalId]dataflow.Schema{}
		for _, id := range f.sources {
			kind := pool.SourceTable
			switch {
			case id.Value >= 20:
				kind = pool.SourceCollection
			case id.Value >= 10:
				kind = pool.SourceView
			}
			spec.Sources = append(spec.Sources, pool.Source{Id: id, Kind: kind})
			schemas[id] = oneInt
		}
		plan, err := dataflow.Compile(unionPlan(f.sources), schemas)
		if err != nil {
			t.Fatal(err)
		}
		spec.Plan = plan
		eff, err := h.core.Install(spec, 0)
		if err != nil {
			fail("install %d: %v", f.id, err)
		}
		run(eff)
	}
	for _, f := range flows {
		run(h.core.Registered(pool.FlowId(f.id), nil))
	}

	collUpper := timely.Timestamp(0)
	row := func(at timely.Timestamp) dataflow.Row { return dataflow.Row{dataflow.Int64(rng.Int63n(3))} }
	// step answers one thing in flight, failing a tenth of the time.
	step := func(failures bool) bool {
		bad := func() map[pool.FlowId]bool {
			out := map[pool.FlowId]bool{}
			if failures && rng.Intn(10) == 0 {
				out[pool.FlowId(flows[rng.Intn(len(flows))].id)] = true
			}
			return out
		}
		switch {
		case h.submit != nil:
			run(h.core.Submitted(h.results(bad()), nil))
		case h.reads != nil:
			run(h.core.ReadDone(h.readResults(bad(), nil)))
		case h.commit != nil:
			run(h.doCommit(failures && rng.Intn(10) == 0))
		case h.core.Phase() == Idle && h.core.canBackfill():
			run(h.core.ContinueBackfill())
		default:
			return false
		}
		return true
	}
	for i := 0; i < steps; i++ {
		switch r := rng.Intn(10); {
		case r < 3: // the tables commit
			from := h.core.Upper()
			upper := from + timely.Timestamp(1+rng.Intn(3))
			changes := map[timely.GlobalId][]dataflow.Update{}
			for n := rng.Intn(3); n > 0; n-- {
				at := from + timely.Timestamp(rng.Intn(int(upper-from)))
				id := []timely.GlobalId{u1, u2}[rng.Intn(2)]
				changes[id] = append(changes[id], dataflow.Update{Row: row(at), Time: at, Diff: 1})
			}
			eff, err := h.core.Consume(from, upper, changes)
			if err != nil {
				continue // busy: the feed retries later with more
			}
			for id, us := range changes {
				for _, u := range us {
					h.log = append(h.log, u)
					h.logIds = append(h.logIds, id)
				}
			}
			run(eff)
		case r < 5: // the collection's writer appends; its CDC delivers
			upper := collUpper + timely.Timestamp(1+rng.Intn(3))
			var cs []dataflow.Update
			for n := rng.Intn(3); n > 0; n-- {
				at := collUpper + timely.Timestamp(rng.Intn(int(upper-collUpper)))
				u := dataflow.Update{Row: row(at), Time: at, Diff: 1}
				h.log = append(h.log, u)
				h.logIds = append(h.logIds, u20)
				cs = append(cs, u)
			}
			from := collUpper
			if rng.Intn(20) == 0 {
				// A resubscription that lost the changes: a gap in the
				// log; reads of that range go to storage.
				from, cs = upper, nil
			}
			collUpper = upper
			run(h.core.CollectionProgress(u20, from, collUpper, cs))
		default:
			step(true)
		}
		for _, f := range flows {
			fl := h.core.flows[pool.FlowId(f.id)]
			if fl.checkpoint > h.core.target(fl) && len(fl.producers) == 0 {
				fail("step %d: flow %d's checkpoint %d passed its input frontier %d", i, f.id, fl.checkpoint, h.core.target(fl))
			}
		}
	}
	for i := 0; step(false); i++ {
		if i > 10000 {
			fail("settling did not converge")
		}
	}
	if h.core.Phase() != Idle {
		fail("settled in phase %s", h.core.Phase())
	}

	source := func(id timely.GlobalId, below timely.Timestamp) []string {
		var out []string
		if id.Value >= 10 && id.Value < 20 {
			for _, u := range h.committed[id] {
				if u.Time < below {
					out = append(out, fmt.Sprintf("%s@%d", u.Row, u.Time))
				}
			}
			return out
		}
		for i, u := range h.log {
			if h.logIds[i] == id && u.Time < below {
				out = append(out, fmt.Sprintf("%s@%d", u.Row, u.Time))
			}
		}
		return out
	}
	for _, f := range flows {
		fl := h.core.flows[pool.FlowId(f.id)]
		if fl.checkpoint != h.core.target(fl) {
			fail("flow %d settled at %d, short of its input frontier %d", f.id, fl.checkpoint, h.core.target(fl))
		}
		var want []string
		for _, s := range f.sources {
			want = append(want, source(s, fl.checkpoint)...)
		}
		var got []string
		for _, u := range h.committed[timely.UserId(uint64(f.id))] {
			got = append(got, fmt.Sprintf("%s@%d", u.Row, u.Time))
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			fail("flow %d at checkpoint %d committed\n  %v\nwant\n  %v", f.id, fl.checkpoint, got, want)
		}
	}
	for _, id := range []int{10, 14} {
		if cp := h.core.flows[pool.FlowId(id)].checkpoint; cp != h.core.Upper() {
			fail("flow %d over tables only settled at %d, the table upper is %d", id, cp, h.core.Upper())
		}
	}
	if cp := h.core.flows[11].checkpoint; cp != collUpper {
		fail("flow 11 over u20 settled at %d, u20's upper is %d", cp, collUpper)
	}
}
