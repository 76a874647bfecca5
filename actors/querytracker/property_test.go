package querytracker

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

var (
	propSeeds = flag.Int("querytracker.seeds", 300, "number of seeds the property test runs (1..n)")
	propSteps = flag.Int("querytracker.steps", 300, "commands per seed in the property test")
)

// propSeedEnv replays one seed of the property test:
//
//	QUERYTRACKER_SEED=1234 go test ./actors/querytracker -run TestPropertyRandomInterleavings -v
const propSeedEnv = "QUERYTRACKER_SEED"

// TestPropertyRandomInterleavings drives random interleavings of every
// command over small pools of peeks, executions, connections, clusters and
// collections, with random clock advances and watch-set failures, and checks
// after every step that
//   - the tracker's own invariants hold (the two maps agree, ...);
//   - no execution was ended more than once, and a tracked peek's execution
//     was not ended at all;
//   - a peek that stopped being tracked had its execution ended exactly once
//     and is never tracked again;
//   - a TrackPeek's handle is afterwards either retired or attached to a
//     tracked peek: handed over handles never leak;
//   - no compute cancel was sent for a peek that is still tracked.
//
// At the end every remaining peek and execution gets a terminal event (or
// the tracker abandons its state, as on restart), and then nothing may remain and every handle must have been retired exactly
// once. Seeds are 1..n (flag -querytracker.seeds); a failure prints its seed
// and how to replay it.
func TestPropertyRandomInterleavings(t *testing.T) {
	if s := os.Getenv(propSeedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", propSeedEnv, s, err)
		}
		runPropertySeed(t, seed, *propSteps)
		return
	}
	for seed := uint64(1); seed <= uint64(*propSeeds); seed++ {
		runPropertySeed(t, seed, *propSteps)
		if t.Failed() {
			return
		}
	}
}

const (
	propPeeks    = 40
	propConns    = 4
	propClusters = 3
	propColls    = 8
)

type propRun struct {
	t       *testing.T
	seed    uint64
	rng     *rand.Rand
	clock   *testkit.ManualClock
	fx      *fakeEffects
	tr      *Tracker
	step    int
	last    string // the command of the current step, for failure messages
	failWS  bool
	ended   map[timely.Uuid]bool // peeks that were tracked and ended
	tracked map[timely.Uuid]bool // peeks tracked after the previous step
	given   map[ExecutionId]bool // every handle handed to the tracker
}

func runPropertySeed(t *testing.T, seed uint64, steps int) {
	r := &propRun{
		t:       t,
		seed:    seed,
		rng:     rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		clock:   testkit.NewManualClock(),
		fx:      newFakeEffects(),
		ended:   map[timely.Uuid]bool{},
		tracked: map[timely.Uuid]bool{},
		given:   map[ExecutionId]bool{},
	}
	r.fx.failWatchSet = func(ExecutionId) bool { return r.failWS }
	// A log large enough never to evict: eviction forgets that an execution
	// ended, which is covered by the scripted tests instead.
	r.tr = NewTracker(TrackerConfig{TombstoneTTL: 30 * time.Second, LogCapacity: 1 << 16}, r.fx)
	for r.step = 0; r.step < steps; r.step++ {
		cmd := r.randomCommand()
		if cmd == nil {
			continue
		}
		before := r.snapshotCancels()
		_ = r.tr.Apply(r.clock.Now(), cmd)
		if !r.check(cmd, before) {
			return
		}
	}
	r.finish()
}

func (r *propRun) fail(format string, args ...any) bool {
	r.t.Helper()
	r.t.Errorf("seed %d, step %d (%s): %s\nreplay: %s=%d go test ./actors/querytracker -run TestPropertyRandomInterleavings -querytracker.steps=%d",
		r.seed, r.step, r.last, fmt.Sprintf(format, args...), propSeedEnv, r.seed, *propSteps)
	return false
}

func (r *propRun) randomCommand() Command {
	rng := r.rng
	peek := 1 + rng.IntN(propPeeks)
	exec := peek
	if rng.IntN(20) == 0 {
		exec = 1 + rng.IntN(propPeeks) // a handle that belongs to another peek
	}
	conn := timely.ConnectionId(1 + rng.IntN(propConns))
	cluster := timely.ClusterId{Kind: timely.User, Value: uint64(1 + rng.IntN(propClusters))}
	coll := func() timely.GlobalId { return timely.UserId(uint64(1 + rng.IntN(propColls))) }
	var cmd Command
	switch x := rng.IntN(100); {
	case x < 30:
		c := TrackPeek{Uuid: peekId(peek), Conn: conn, Cluster: cluster, Execution: execId(exec),
			Strategy: Strategy(1 + rng.IntN(4))}
		for range rng.IntN(3) {
			c.DependsOn = append(c.DependsOn, coll())
		}
		if rng.IntN(4) == 0 {
			c.WatchSet = &WatchSet{Objects: c.DependsOn, Timestamp: timely.Timestamp(rng.IntN(100))}
			r.failWS = rng.IntN(3) == 0
		}
		if rng.IntN(50) == 0 {
			c.Strategy = StrategyUnknown // invalid
		}
		r.given[c.Execution] = true
		cmd = c
	case x < 45:
		n := Notification{Outcome: Outcome(1 + rng.IntN(3)), Rows: uint64(rng.IntN(10)), ResultSize: uint64(rng.IntN(1000))}
		if rng.IntN(30) == 0 {
			n.Outcome = OutcomeUnknown
		}
		cmd = ObservePeekNotification{Uuid: peekId(peek), Notification: n}
	case x < 52:
		cmd = UntrackPeek{Uuid: peekId(peek)}
	case x < 59:
		cmd = CancelConn{Conn: conn}
	case x < 64:
		c := CancelByDrop{Clusters: map[timely.ClusterId]string{}, Collections: map[timely.GlobalId]string{}}
		if rng.IntN(3) == 0 {
			c.Clusters[cluster] = "cluster " + cluster.String()
		} else {
			id := coll()
			c.Collections[id] = "relation " + id.String()
		}
		cmd = c
	case x < 72:
		r.given[execId(exec)] = true
		cmd = BeginExecution{Execution: execId(exec), Conn: conn}
	case x < 76:
		cmd = SetExecutionCluster{Execution: execId(exec), Cluster: cluster}
	case x < 80:
		cmd = SetExecutionTimestamp{Execution: execId(exec), Timestamp: timely.Timestamp(rng.IntN(1000))}
	case x < 85:
		reason := EndReason{Kind: EndKind(1 + rng.IntN(4)), Strategy: Strategy(1 + rng.IntN(4)), Message: "end"}
		if rng.IntN(20) == 0 {
			reason.Kind = EndUnknown
		}
		cmd = EndExecution{Execution: execId(exec), Reason: reason}
	case x < 95:
		d := time.Duration(rng.IntN(40_000)) * time.Millisecond
		r.last = fmt.Sprintf("advance %v", d)
		r.clock.Advance(d)
		return nil
	default:
		r.last = "dump"
		if len(r.tr.Dump(r.clock.Now()).JSON()) == 0 {
			r.fail("empty dump")
		}
		return nil
	}
	r.last = fmt.Sprintf("%T%+v", cmd, cmd)
	return cmd
}

func (r *propRun) snapshotCancels() map[timely.Uuid]int {
	r.fx.mu.Lock()
	defer r.fx.mu.Unlock()
	out := make(map[timely.Uuid]int, len(r.fx.computeCancels))
	for u, n := range r.fx.computeCancels {
		out[u] = n
	}
	return out
}

func (r *propRun) check(cmd Command, cancelsBefore map[timely.Uuid]int) bool {
	if err := r.tr.CheckInvariants(); err != nil {
		return r.fail("invariant: %v", err)
	}
	r.fx.mu.Lock()
	ends := make(map[ExecutionId]int, len(r.fx.ends))
	for id, n := range r.fx.ends {
		ends[id] = n
	}
	cancels := r.fx.computeCancels
	for u, n := range cancels {
		if n > cancelsBefore[u] && r.tr.IsTracked(u) {
			r.fx.mu.Unlock()
			return r.fail("compute cancel sent for peek %v, which is still tracked", peekName(u))
		}
	}
	r.fx.mu.Unlock()
	for id, n := range ends {
		if n > 1 {
			return r.fail("execution %s ended %d times", execName(id), n)
		}
	}
	for i := 1; i <= propPeeks; i++ {
		u := peekId(i)
		now := r.tr.IsTracked(u)
		switch {
		case now && r.ended[u]:
			return r.fail("peek %s is tracked again after it ended", peekName(u))
		case now:
			exec := r.tr.peeks[u].execution
			if ends[exec] != 0 {
				return r.fail("tracked peek %s has ended execution %s", peekName(u), execName(exec))
			}
		case r.tracked[u]:
			r.ended[u] = true
		}
		if r.tracked[u] && !now {
			// It ended in this step: its handle must have been retired.
			e, ok := r.tr.Execution(r.trackedExec(u))
			if !ok || !e.Ended || ends[e.Id] != 1 {
				return r.fail("peek %s ended but its execution was not retired exactly once", peekName(u))
			}
		}
		r.tracked[u] = now
	}
	if c, ok := cmd.(TrackPeek); ok && !c.Execution.IsZero() {
		e, ok := r.tr.Execution(c.Execution)
		switch {
		case !ok:
			return r.fail("handle %s of a TrackPeek is not in the log", execName(c.Execution))
		case e.Ended && ends[e.Id] == 1:
		case !e.Ended && e.HasPeek && r.tr.IsTracked(e.Peek):
		default:
			return r.fail("handle %s of a TrackPeek is neither retired nor attached to a tracked peek: %+v", execName(c.Execution), e)
		}
	}
	return true
}

// trackedExec returns the execution of a peek that was tracked before this
// step, from the statement log (the peek itself is gone).
func (r *propRun) trackedExec(u timely.Uuid) ExecutionId {
	for id := range r.given {
		if e, ok := r.tr.Execution(id); ok && e.HasPeek && e.Peek == u && e.Ended {
			return id
		}
	}
	return ExecutionId{}
}

// finish gives every peek and execution a terminal event and checks that
// nothing remains and every handle was retired exactly once. Odd seeds end
// with notifications and explicit ends; even seeds with Abandon, as an actor
// restart or stop does.
func (r *propRun) finish() {
	r.step, r.last = -1, "terminal events"
	now := r.clock.Now()
	if r.seed%2 == 0 {
		r.last = "abandon"
		r.tr.Abandon(now, "abandoned by the test")
	}
	for i := 1; i <= propPeeks; i++ {
		if r.tr.IsTracked(peekId(i)) {
			if err := r.tr.ObservePeekNotification(now, ObservePeekNotification{Uuid: peekId(i), Notification: Success(1, 1)}); err != nil {
				r.fail("terminal notification: %v", err)
				return
			}
		}
	}
	for _, e := range r.tr.Unretired() {
		if err := r.tr.EndExecution(now, EndExecution{Execution: e.Id, Reason: EndReason{Kind: EndAborted}}); err != nil {
			r.fail("terminal end: %v", err)
			return
		}
	}
	if err := r.tr.CheckInvariants(); err != nil {
		r.fail("invariant: %v", err)
		return
	}
	if n := r.tr.TrackedPeeks(); n != 0 || len(r.tr.byConn) != 0 {
		r.fail("%d peeks (%d connections) remain after every peek had a terminal event", n, len(r.tr.byConn))
		return
	}
	if u := r.tr.Unretired(); len(u) != 0 {
		r.fail("%d executions remain unretired: %+v", len(u), u)
		return
	}
	for id := range r.given {
		if n := r.fx.endCount(id); n != 1 {
			r.fail("handle %s was retired %d times", execName(id), n)
			return
		}
	}
}
