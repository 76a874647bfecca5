package instance

import (
	"flag"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

var (
	historySeeds = flag.Int("history.seeds", 500, "number of seeds the history property test runs (1..n)")
	historySteps = flag.Int("history.steps", 250, "generator steps per seed in the history property test")
)

// historySeedEnv replays one seed of the property test, logging every
// command it pushes:
//
//	ARBOR_HISTORY_SEED=1234 go test ./actors/instance -run TestHistoryReplayProperty -v
const historySeedEnv = "ARBOR_HISTORY_SEED"

// TestHistoryReplayProperty pushes random, well-formed command sequences
// (the generator plays an instance that keeps the protocol and its read
// holds) into a History and, at random checkpoints and at the end, checks
// that a model replica cannot tell the histories apart:
//
//   - replaying Replay's reduced history, replaying Commands (a reduced
//     prefix plus what was pushed since, as Push's own reductions left it)
//     and replaying every command ever pushed give the same observable
//     state, once the peeks retired by RetirePeek are taken out of the full
//     replay (they finished; Replay must not contain them at all);
//   - no replay makes the model reject a command (a dataflow reading an
//     index below its since, a peek below its target's since, a command
//     for an unknown collection);
//   - the reduced history has the fixed shape: kinds in emit order, one
//     Hello, CreateInstance, UpdateConfiguration and InitializationComplete
//     at most, no CancelPeek, one CreateDataflow per installed dataflow
//     with an as_of never behind the pushed one, counts that match; and a
//     second Reduce changes nothing.
//
// Seeds are 1..n (flag -history.seeds); a failure names its seed and how
// to replay it.
func TestHistoryReplayProperty(t *testing.T) {
	if s := os.Getenv(historySeedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", historySeedEnv, s, err)
		}
		t.Logf("seed %d", seed)
		runHistorySeed(t, seed, *historySteps, true)
		return
	}
	t.Logf("seeds 1..%d, %d steps each (replay one with %s=<seed>)", *historySeeds, *historySteps, historySeedEnv)
	for seed := uint64(1); seed <= uint64(*historySeeds); seed++ {
		runHistorySeed(t, seed, *historySteps, false)
		if t.Failed() {
			return
		}
	}
}

// TestHistoryPushKeepsLengthBounded: over a long run whose live state is
// bounded (at most 12 dataflows of 3 exports, 16 pending peeks), Push's
// own reductions keep the history within twice the largest reduced
// history, however many commands go through; and the history still
// replays to the full history's state at the end.
func TestHistoryPushKeepsLengthBounded(t *testing.T) {
	const steps = 10_000
	r := newHistoryRun(t, 42, false)
	// The largest reduced history of this generator: Hello, CreateInstance,
	// UpdateConfiguration, InitializationComplete, then per export at most
	// a Schedule, an AllowWrites and an AllowCompaction, per dataflow a
	// CreateDataflow, per pending peek a Peek.
	bound := 4 + genMaxDataflows*(1+3*3) + genMaxPeeks
	maxLen, reductions, prev := 0, 0, 0
	for range steps {
		r.step()
		n := r.h.Len()
		if n < prev {
			reductions++
		}
		prev = n
		maxLen = max(maxLen, n)
		if n > 2*bound {
			t.Fatalf("history holds %d commands after %d pushes; the bound is %d", n, r.pushed, 2*bound)
		}
	}
	r.check("end")
	if r.pushed < 5*bound || reductions < 10 {
		t.Fatalf("the run proves little: %d pushes, %d reductions", r.pushed, reductions)
	}
	t.Logf("%d pushes, %d reductions, at most %d commands held (bound %d)", r.pushed, reductions, maxLen, 2*bound)
}

func runHistorySeed(t *testing.T, seed uint64, steps int, verbose bool) {
	r := newHistoryRun(t, seed, verbose)
	for i := range steps {
		r.step()
		if r.rng.IntN(50) == 0 {
			r.check(fmt.Sprintf("step %d", i))
			if t.Failed() {
				return
			}
		}
	}
	r.check("end")
}

// ---------------------------------------------------------------------------
// The generator: an instance that keeps the protocol and its read holds

const (
	genMaxDataflows = 12
	genMaxPeeks     = 16
)

type genExport struct {
	id      timely.GlobalId
	df      *genDataflow
	sink    bool
	since   timely.Frontier
	dropped bool
}

type genDataflow struct {
	name    string
	asOf    timely.Frontier
	exports []*genExport
	imports []*genExport
}

func (df *genDataflow) live() bool {
	return slices.ContainsFunc(df.exports, func(e *genExport) bool { return !e.dropped })
}

// since is the least since of the dataflow's live exports: where its read
// holds on the indexes it imports stand.
func (df *genDataflow) since() timely.Frontier {
	f := timely.Closed()
	for _, e := range df.exports {
		if !e.dropped {
			f = f.Meet(e.since)
		}
	}
	return f
}

type genPeek struct {
	n      int
	target *genExport // nil: a storage collection
	ts     timely.Timestamp
}

// historyRun is one seeded run: the generator's state, the history under
// test, and the model replica fed every command ever pushed.
type historyRun struct {
	t       testing.TB
	seed    uint64
	rng     *rand.Rand
	verbose bool

	h       *History
	full    *modelReplica
	retired map[timely.Uuid]bool
	pushed  int
	// asOf is each dataflow's as_of as pushed, by name.
	asOf map[string]timely.Frontier
	// ops, when not nil, records every push and retirement (benchmarks
	// replay them without the generator and the model).
	ops *[]historyOp

	now       timely.Timestamp
	nextId    uint64
	nextPeek  int
	nextHello int
	dataflows []*genDataflow
	peeks     []*genPeek
	initDone  bool
}

func newHistoryRun(t testing.TB, seed uint64, verbose bool) *historyRun {
	r := &historyRun{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x41524230)), verbose: verbose,
		h: NewHistory(), full: newModelReplica(), retired: make(map[timely.Uuid]bool),
		asOf: make(map[string]timely.Frontier), nextHello: 1,
	}
	r.push(helloCmd(r.nextHello))
	r.push(createInstanceCmd("r1"))
	return r
}

func (r *historyRun) push(cmd *messages.ComputeCommand) {
	if r.verbose {
		r.t.Logf("push %s", formatCommand(cmd))
	}
	r.h.Push(cmd)
	r.full.apply(cmd)
	r.pushed++
	if r.ops != nil {
		*r.ops = append(*r.ops, historyOp{cmd: cmd})
	}
}

// historyOp is a Push of cmd, or else a RetirePeek of retire.
type historyOp struct {
	cmd    *messages.ComputeCommand
	retire timely.Uuid
}

func (r *historyRun) retire(n int) {
	if r.verbose {
		r.t.Logf("retire-peek p%d", n)
	}
	r.h.RetirePeek(peekUuid(n))
	r.retired[peekUuid(n)] = true
	if r.ops != nil {
		*r.ops = append(*r.ops, historyOp{retire: peekUuid(n)})
	}
}

// liveExports returns the exports not yet dropped that pass keep.
func (r *historyRun) liveExports(keep func(*genExport) bool) []*genExport {
	var out []*genExport
	for _, df := range r.dataflows {
		for _, e := range df.exports {
			if !e.dropped && keep(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

// hold is how far the instance lets e compact: no further than a pending
// peek's time on it, or the since of a live dataflow importing it.
func (r *historyRun) hold(e *genExport) timely.Frontier {
	f := timely.Closed()
	for _, p := range r.peeks {
		if p.target == e {
			f = f.Meet(timely.At(p.ts))
		}
	}
	for _, df := range r.dataflows {
		if df.live() && slices.Contains(df.imports, e) {
			f = f.Meet(df.since())
		}
	}
	return f
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// step pushes one action's commands, chosen by weight among the actions
// the generator's state allows.
func (r *historyRun) step() {
	r.now += timely.Timestamp(r.rng.IntN(3))
	all := func(*genExport) bool { return true }
	type action struct {
		weight int
		do     func()
	}
	live := 0
	for _, df := range r.dataflows {
		if df.live() {
			live++
		}
	}
	actions := []action{
		{3 * b2i(live < genMaxDataflows), r.createDataflow},
		{3, func() {
			if es := r.liveExports(all); len(es) > 0 {
				r.push(scheduleCmd(pick(r.rng, es).id))
			}
		}},
		{1, func() {
			if es := r.liveExports(func(e *genExport) bool { return e.sink }); len(es) > 0 {
				r.push(allowWritesCmd(pick(r.rng, es).id))
			}
		}},
		{6, r.compact},
		{2, r.dropExport},
		{1, r.dropDataflow},
		{4 * b2i(len(r.peeks) < genMaxPeeks), r.peek},
		{4, r.finishPeek},
		{1, func() { r.push(cancelPeekCmd(1_000_000 + r.rng.IntN(10))) }}, // a peek never issued
		{1, func() {
			params := make(map[string]string)
			for range r.rng.IntN(4) {
				params[string(rune('a'+r.rng.IntN(4)))] = strconv.Itoa(r.rng.IntN(10))
			}
			r.push(configCmd(params))
		}},
		{1 * b2i(!r.initDone), func() {
			r.initDone = true
			r.push(initCompleteCmd())
		}},
		{1, func() { // the connection's opening commands again: the last ones win
			if r.rng.IntN(2) == 0 {
				r.nextHello++
				r.push(helloCmd(r.nextHello))
			} else {
				r.push(createInstanceCmd("r" + strconv.Itoa(r.rng.IntN(5))))
			}
		}},
	}
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	n := r.rng.IntN(total)
	for _, a := range actions {
		if n < a.weight {
			a.do()
			return
		}
		n -= a.weight
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *historyRun) createDataflow() {
	df := &genDataflow{name: "df" + strconv.FormatUint(r.nextId+1, 10)}
	asOf := timely.At(r.now - min(r.now, timely.Timestamp(r.rng.IntN(4))))
	if idx := r.liveExports(func(e *genExport) bool { return !e.sink }); len(idx) > 0 {
		for range r.rng.IntN(3) {
			e := pick(r.rng, idx)
			if !slices.Contains(df.imports, e) {
				df.imports = append(df.imports, e)
				asOf = asOf.Join(e.since) // never read below an input's since
			}
		}
	}
	df.asOf = asOf
	spec := dataflowSpec{name: df.name, asOf: asOf}
	for range 1 + r.rng.IntN(3) {
		r.nextId++
		e := &genExport{id: timely.UserId(r.nextId), df: df, sink: r.rng.IntN(10) < 3, since: asOf}
		df.exports = append(df.exports, e)
		if e.sink {
			spec.sinks = append(spec.sinks, e.id)
		} else {
			spec.indexes = append(spec.indexes, e.id)
		}
	}
	for _, e := range df.imports {
		spec.imports = append(spec.imports, e.id)
	}
	r.dataflows = append(r.dataflows, df)
	r.asOf[df.name] = asOf
	r.push(dataflowCmd(spec))
}

// compact advances a live export's since by a little, as far as its holds
// allow (sometimes not at all: a repeated AllowCompaction is legal).
func (r *historyRun) compact() {
	es := r.liveExports(func(*genExport) bool { return true })
	if len(es) == 0 {
		return
	}
	e := pick(r.rng, es)
	t, _ := e.since.Time()
	to := timely.At(t + timely.Timestamp(r.rng.IntN(6))).Meet(r.hold(e)).Join(e.since)
	e.since = to
	r.push(compactionCmd(e.id, to))
}

func (r *historyRun) free(e *genExport) bool { return r.hold(e).IsEmpty() }

func (r *historyRun) drop(e *genExport) {
	e.dropped, e.since = true, timely.Closed()
	r.push(compactionCmd(e.id, timely.Closed()))
}

func (r *historyRun) dropExport() {
	if es := r.liveExports(r.free); len(es) > 0 {
		r.drop(pick(r.rng, es))
	}
}

func (r *historyRun) dropDataflow() {
	var candidates []*genDataflow
	for _, df := range r.dataflows {
		if df.live() && !slices.ContainsFunc(df.exports, func(e *genExport) bool { return !e.dropped && !r.free(e) }) {
			candidates = append(candidates, df)
		}
	}
	if len(candidates) == 0 {
		return
	}
	for _, e := range pick(r.rng, candidates).exports {
		if !e.dropped {
			r.drop(e)
		}
	}
}

func (r *historyRun) peek() {
	r.nextPeek++
	p := &genPeek{n: r.nextPeek}
	idx := r.liveExports(func(e *genExport) bool { return !e.sink })
	if len(idx) == 0 || r.rng.IntN(5) == 0 {
		p.ts = r.now
		r.peeks = append(r.peeks, p)
		r.push(peekCmd(p.n, timely.UserId(900+uint64(r.rng.IntN(5))), true, p.ts))
		return
	}
	p.target = pick(r.rng, idx)
	t, _ := p.target.since.Time()
	p.ts = t + timely.Timestamp(r.rng.IntN(5))
	r.peeks = append(r.peeks, p)
	r.push(peekCmd(p.n, p.target.id, false, p.ts))
}

// finishPeek ends a pending peek the ways an instance may: a CancelPeek to
// the replicas, RetirePeek, or both in either order.
func (r *historyRun) finishPeek() {
	if len(r.peeks) == 0 {
		return
	}
	i := r.rng.IntN(len(r.peeks))
	p := r.peeks[i]
	r.peeks = slices.Delete(r.peeks, i, i+1)
	switch n := r.rng.IntN(100); {
	case n < 40:
		r.push(cancelPeekCmd(p.n))
	case n < 70:
		r.retire(p.n)
	case n < 85:
		r.push(cancelPeekCmd(p.n))
		r.retire(p.n)
	default:
		r.retire(p.n)
		r.push(cancelPeekCmd(p.n))
	}
}

// ---------------------------------------------------------------------------
// The checks

func (r *historyRun) fail(at, format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("seed %d, %s: %s\nreplay: %s=%d go test ./actors/instance -run TestHistoryReplayProperty -v",
		r.seed, at, fmt.Sprintf(format, args...), historySeedEnv, r.seed)
}

func (r *historyRun) check(at string) {
	r.t.Helper()
	if len(r.full.errs) > 0 {
		r.fail(at, "the generator broke the protocol (a test bug): %v", r.full.errs)
		return
	}
	// What Push's own reductions left, retired peeks included.
	asHeld := replayModel(r.h.Commands())
	if !asHeld.sameAs(r.retired, r.full, r.retired) {
		r.fail(at, "replaying Commands differs from the full history\n--- Commands:\n%s--- replays to:\n%s--- full replays to:\n%s",
			formatCommands(r.h.Commands()), asHeld.observe(r.retired), r.full.observe(r.retired))
		return
	}

	epoch := &messages.ComputeEpoch{Environment: 7, Incarnation: r.seed}
	replay := r.h.Replay(epoch)
	reduced := replayModel(replay)
	if !reduced.sameAs(nil, r.full, r.retired) {
		r.fail(at, "replaying the reduced history differs from the full history\n--- reduced:\n%s--- replays to:\n%s--- full replays to:\n%s",
			formatCommands(replay), reduced.observe(nil), r.full.observe(r.retired))
		return
	}
	for _, cmd := range replay {
		if cmd.Epoch != epoch {
			r.fail(at, "Replay left %s without the epoch", formatCommand(cmd))
			return
		}
	}
	if err := checkReducedShape(r.h, r.asOf); err != nil {
		r.fail(at, "%v\n--- reduced:\n%s", err, formatCommands(r.h.Commands()))
		return
	}
	if got := r.h.DataflowCount(); got != len(r.full.dataflows) {
		r.fail(at, "the reduced history installs %d dataflows, the full one %d", got, len(r.full.dataflows))
		return
	}
	once := slices.Clone(r.h.Commands())
	r.h.Reduce()
	if !slices.EqualFunc(once, r.h.Commands(), func(a, b *messages.ComputeCommand) bool { return proto.Equal(a, b) }) {
		r.fail(at, "Reduce is not idempotent\n--- once:\n%s--- twice:\n%s", formatCommands(once), formatCommands(r.h.Commands()))
	}
}

// checkReducedShape checks what a reduced history looks like, whatever
// the commands pushed.
func checkReducedShape(h *History, pushedAsOf map[string]timely.Frontier) error {
	var counts [numCommandKinds]int
	last := CommandKind(-1)
	scheduled, writable := make(map[timely.GlobalId]bool), make(map[timely.GlobalId]bool)
	for _, cmd := range h.Commands() {
		k, ok := KindOf(cmd)
		if !ok {
			return fmt.Errorf("an empty envelope in the reduced history")
		}
		if k < last {
			return fmt.Errorf("%s after a %s: out of the fixed order", formatCommand(cmd), last)
		}
		last = k
		counts[k]++
		switch c := cmd.Command.(type) {
		case *messages.ComputeCommand_CreateDataflow:
			d := c.CreateDataflow.Dataflow
			asOf, _ := d.AsOf.ToTimely()
			if was, ok := pushedAsOf[d.DebugName]; ok && !was.LessEqual(asOf) {
				return fmt.Errorf("dataflow %s: as_of moved back from %s to %s", d.DebugName, was, asOf)
			}
		case *messages.ComputeCommand_Schedule:
			id, _ := c.Schedule.Id.ToTimely()
			if scheduled[id] {
				return fmt.Errorf("two Schedule of %s", id)
			}
			scheduled[id] = true
		case *messages.ComputeCommand_AllowWrites:
			id, _ := c.AllowWrites.Id.ToTimely()
			if writable[id] {
				return fmt.Errorf("two AllowWrites of %s", id)
			}
			writable[id] = true
		}
	}
	for _, k := range []CommandKind{KindHello, KindCreateInstance, KindUpdateConfiguration, KindInitializationComplete} {
		if counts[k] > 1 {
			return fmt.Errorf("%d commands of kind %s", counts[k], k)
		}
	}
	if counts[KindCancelPeek] > 0 {
		return fmt.Errorf("a CancelPeek survived the reduction")
	}
	for _, k := range CommandKinds() {
		if h.CommandCount(k) != counts[k] {
			return fmt.Errorf("CommandCount(%s) = %d, the history holds %d", k, h.CommandCount(k), counts[k])
		}
	}
	if h.DataflowCount() != counts[KindCreateDataflow] {
		return fmt.Errorf("DataflowCount = %d, the history holds %d", h.DataflowCount(), counts[KindCreateDataflow])
	}
	if h.Len() != len(h.Commands()) {
		return fmt.Errorf("Len = %d, Commands has %d", h.Len(), len(h.Commands()))
	}
	return nil
}

// ---------------------------------------------------------------------------
// The model replica

// modelReplica is what a replica makes of the commands it is sent, reduced
// to what an observer of the replica can tell: the opening commands it
// got, its configuration, the dataflows installed and for each export its
// since (how far back it can still be read) and whether it is scheduled and
// may write, and the peeks it still has to answer. It rejects (records in
// errs) what a runtime would reject: a command for a collection it does not
// have, a dataflow importing an index it does not have or reading it below
// its since, a peek below its target's since.
type modelReplica struct {
	hello, instance string
	initialized     bool
	config          map[string]string
	dataflows       map[string]*modelDataflow
	colls           map[timely.GlobalId]*modelColl
	peeks           map[timely.Uuid]modelPeek
	errs            []string
}

// modelPeek is a pending peek: its target and time.
type modelPeek struct {
	target  timely.GlobalId
	persist bool
	ts      uint64
}

type modelDataflow struct {
	// fingerprint hashes the description without its as_of, which a
	// reduction may advance: the rest must reach the replica unchanged.
	fingerprint uint64
	exports     []timely.GlobalId
}

type modelColl struct {
	dataflow             string
	since                timely.Frontier
	scheduled, writeable bool
}

func newModelReplica() *modelReplica {
	return &modelReplica{
		config:    make(map[string]string),
		dataflows: make(map[string]*modelDataflow),
		colls:     make(map[timely.GlobalId]*modelColl),
		peeks:     make(map[timely.Uuid]modelPeek),
	}
}

func replayModel(cmds []*messages.ComputeCommand) *modelReplica {
	m := newModelReplica()
	for _, cmd := range cmds {
		m.apply(cmd)
	}
	return m
}

func (m *modelReplica) reject(cmd *messages.ComputeCommand, why string) {
	m.errs = append(m.errs, bare(cmd)+": "+why)
}

// bare prints cmd without its epoch, which is the connection's, not the
// command's.
func bare(cmd *messages.ComputeCommand) string {
	return formatCommand(&messages.ComputeCommand{Command: cmd.Command})
}

func (m *modelReplica) coll(cmd *messages.ComputeCommand, x *messages.GlobalId) (*modelColl, timely.GlobalId) {
	id, _ := x.ToTimely()
	c := m.colls[id]
	if c == nil {
		m.reject(cmd, "unknown collection "+id.String())
	}
	return c, id
}

func (m *modelReplica) apply(cmd *messages.ComputeCommand) {
	switch c := cmd.Command.(type) {
	case *messages.ComputeCommand_Hello:
		m.hello = peekNumber(c.Hello.Nonce)
	case *messages.ComputeCommand_CreateInstance:
		m.instance = c.CreateInstance.GetConfig().GetReplicaName()
	case *messages.ComputeCommand_InitializationComplete:
		m.initialized = true
	case *messages.ComputeCommand_UpdateConfiguration:
		maps.Copy(m.config, c.UpdateConfiguration.Params)
	case *messages.ComputeCommand_CreateDataflow:
		d := c.CreateDataflow.Dataflow
		asOf, _ := d.AsOf.ToTimely()
		if m.dataflows[d.DebugName] != nil {
			m.reject(cmd, "dataflow exists")
			return
		}
		for _, imp := range d.IndexImports {
			in, id := m.coll(cmd, imp.Id)
			if in != nil && !in.since.LessEqual(asOf) {
				m.reject(cmd, fmt.Sprintf("reads %s at %s, below its since %s", id, asOf, in.since))
			}
		}
		noAsOf := withAsOf(cmd, timely.Minimum()).GetCreateDataflow().Dataflow // a shallow copy
		noAsOf.AsOf = nil
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(noAsOf)
		hash := fnv.New64a()
		hash.Write(b)
		df := &modelDataflow{fingerprint: hash.Sum64(), exports: exportIds(d)}
		m.dataflows[d.DebugName] = df
		for _, id := range df.exports {
			if m.colls[id] != nil {
				m.reject(cmd, "collection exists: "+id.String())
			}
			m.colls[id] = &modelColl{dataflow: d.DebugName, since: asOf}
		}
	case *messages.ComputeCommand_Schedule:
		if cl, _ := m.coll(cmd, c.Schedule.Id); cl != nil {
			cl.scheduled = true
		}
	case *messages.ComputeCommand_AllowWrites:
		if cl, _ := m.coll(cmd, c.AllowWrites.Id); cl != nil {
			cl.writeable = true
		}
	case *messages.ComputeCommand_AllowCompaction:
		cl, id := m.coll(cmd, c.AllowCompaction.Id)
		if cl == nil {
			return
		}
		f, _ := c.AllowCompaction.Frontier.ToTimely()
		cl.since = cl.since.Join(f)
		if !cl.since.IsEmpty() {
			return
		}
		delete(m.colls, id)
		df := m.dataflows[cl.dataflow]
		if !slices.ContainsFunc(df.exports, func(e timely.GlobalId) bool { return m.colls[e] != nil }) {
			delete(m.dataflows, cl.dataflow)
		}
	case *messages.ComputeCommand_Peek:
		uuid, _ := c.Peek.Uuid.ToTimely()
		p := modelPeek{ts: c.Peek.Timestamp}
		if idx := c.Peek.GetIndex(); idx != nil {
			cl, id := m.coll(cmd, idx)
			if cl != nil && !cl.since.Admits(timely.Timestamp(c.Peek.Timestamp)) {
				m.reject(cmd, fmt.Sprintf("reads %s at %d, below its since %s", id, c.Peek.Timestamp, cl.since))
			}
			p.target = id
		} else {
			p.target, _ = c.Peek.GetPersist().GetId().ToTimely()
			p.persist = true
		}
		m.peeks[uuid] = p
	case *messages.ComputeCommand_CancelPeek:
		uuid, _ := c.CancelPeek.Uuid.ToTimely()
		delete(m.peeks, uuid)
	}
}

// sameAs reports whether m, leaving out the pending peeks in retired, and
// o, leaving out those in oRetired, are observably the same: observe
// would print the same, but cheaper, so that every checkpoint can afford
// it.
func (m *modelReplica) sameAs(retired map[timely.Uuid]bool, o *modelReplica, oRetired map[timely.Uuid]bool) bool {
	if m.hello != o.hello || m.instance != o.instance || m.initialized != o.initialized ||
		!maps.Equal(m.config, o.config) || len(m.errs) > 0 || len(o.errs) > 0 ||
		!maps.EqualFunc(m.dataflows, o.dataflows, func(a, b *modelDataflow) bool {
			return a.fingerprint == b.fingerprint && slices.Equal(a.exports, b.exports)
		}) ||
		!maps.EqualFunc(m.colls, o.colls, func(a, b *modelColl) bool { return *a == *b }) {
		return false
	}
	pending := func(m *modelReplica, retired map[timely.Uuid]bool) int {
		n := 0
		for uuid := range m.peeks {
			if !retired[uuid] {
				n++
			}
		}
		return n
	}
	for uuid, p := range m.peeks {
		if q, ok := o.peeks[uuid]; !retired[uuid] && (!ok || oRetired[uuid] || p != q) {
			return false
		}
	}
	return pending(m, retired) == pending(o, oRetired)
}

// observe prints the observable state, leaving out the pending peeks in
// retired. A dataflow's as_of is printed as the replica can tell it: the
// least since of its live exports (a dataflow built at an earlier as_of
// and compacted since is indistinguishable from one built at that since).
func (m *modelReplica) observe(retired map[timely.Uuid]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hello: %s\ninstance: %s\ninitialized: %v\n", m.hello, m.instance, m.initialized)
	for _, k := range slices.Sorted(maps.Keys(m.config)) {
		fmt.Fprintf(&b, "config %s=%s\n", k, m.config[k])
	}
	for _, name := range slices.Sorted(maps.Keys(m.dataflows)) {
		df := m.dataflows[name]
		asOf := timely.Closed()
		var exports []string
		for _, id := range df.exports {
			cl := m.colls[id]
			if cl == nil {
				exports = append(exports, id.String()+"(dropped)")
				continue
			}
			asOf = asOf.Meet(cl.since)
			exports = append(exports, fmt.Sprintf("%s(since=%s scheduled=%v writes=%v)", id, cl.since, cl.scheduled, cl.writeable))
		}
		fmt.Fprintf(&b, "dataflow %s desc=%016x as_of=%s %s\n", name, df.fingerprint, asOf, strings.Join(exports, " "))
	}
	var peeks []string
	for uuid, p := range m.peeks {
		if !retired[uuid] {
			peeks = append(peeks, fmt.Sprintf("%s %s persist=%v ts=%d", uuid, p.target, p.persist, p.ts))
		}
	}
	slices.Sort(peeks)
	for _, p := range peeks {
		b.WriteString("pending " + p + "\n")
	}
	for _, e := range m.errs {
		b.WriteString("rejected " + e + "\n")
	}
	return b.String()
}

// BenchmarkHistoryPush is the amortized cost of Push on the generator's
// 1e4-step run, reductions included, beside the same commands appended to
// a plain slice (what recording without ever reducing would cost). It
// reports ns/push and the commands a replay of the end state sends.
func BenchmarkHistoryPush(b *testing.B) {
	var ops []historyOp
	r := newHistoryRun(b, 42, false)
	r.ops = &ops
	for range 10_000 {
		r.step()
	}
	pushes := 0
	for _, op := range ops {
		if op.cmd != nil {
			pushes++
		}
	}
	b.Run("history", func(b *testing.B) {
		var h *History
		for b.Loop() {
			h = NewHistory()
			for _, op := range ops {
				if op.cmd != nil {
					h.Push(op.cmd)
				} else {
					h.RetirePeek(op.retire)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pushes), "ns/push")
		b.ReportMetric(float64(len(h.Replay(&messages.ComputeEpoch{}))), "replayed")
	})
	b.Run("append-baseline", func(b *testing.B) {
		var cmds []*messages.ComputeCommand
		for b.Loop() {
			cmds = nil
			for _, op := range ops {
				if op.cmd != nil {
					cmds = append(cmds, op.cmd)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pushes), "ns/push")
		b.ReportMetric(float64(len(cmds)), "replayed")
	})
}
