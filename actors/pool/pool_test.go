package pool_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/metrics"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

var (
	table  = timely.UserId(1)
	schema = dataflow.Schema{{Name: "x", Type: dataflow.TypeInt64}}
)

// history is a Reader over an in-memory log of table changes.
type history struct {
	mu  sync.Mutex
	log []dataflow.Update
}

func (h *history) add(us ...dataflow.Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, us...)
}

func (h *history) Read(_ context.Context, _ pool.Source, from, to timely.Timestamp) ([]dataflow.Update, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []dataflow.Update
	for _, u := range h.log {
		if u.Time >= from && u.Time < to {
			out = append(out, u)
		}
	}
	return out, nil
}

func spec(t *testing.T, id pool.FlowId, materialized bool) pool.FlowSpec {
	w := &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(table)}}}
	plan, err := dataflow.Compile(w, map[timely.GlobalId]dataflow.Schema{table: schema})
	require.NoError(t, err)
	return pool.FlowSpec{Id: id, Export: timely.UserId(uint64(id)), Plan: plan, Sources: []pool.Source{{Id: table, Kind: pool.SourceTable}}, Materialized: materialized}
}

func ups(times ...int) []dataflow.Update {
	var out []dataflow.Update
	for _, t := range times {
		out = append(out, dataflow.Update{Row: dataflow.Row{dataflow.Int64(int64(t))}, Time: timely.Timestamp(t), Diff: 1})
	}
	return out
}

func batch(id pool.FlowId, from, upper int, us []dataflow.Update) pool.FlowBatch {
	return pool.FlowBatch{Flow: id, From: timely.Timestamp(from), Upper: timely.Timestamp(upper), Updates: map[timely.GlobalId][]dataflow.Update{table: us}}
}

type fixture struct {
	sys   *actor.ActorSystem
	probe *testkit.Probe
	pool  *actor.PID
	reg   *prometheus.Registry
	hist  *history
}

func newFixture(t *testing.T, workers int, hook func(int, pool.FlowBatch)) *fixture {
	f := &fixture{sys: testkit.NewSystem(t), hist: &history{}}
	f.probe = testkit.NewProbe(t, f.sys)
	f.reg = prometheus.NewRegistry()
	f.pool = f.sys.Root.Spawn(props(t, pool.Config{Workers: workers, Reader: f.hist, Registerer: f.reg, Logger: testkit.QuietLogger(), BeforeApply: hook}))
	return f
}

func (f *fixture) register(t *testing.T, s pool.FlowSpec, cp timely.Timestamp) error {
	f.probe.Send(f.pool, &pool.RegisterFlow{Spec: s, Checkpoint: cp})
	r := testkit.ExpectMsg[*pool.RegisterFlowReply](f.probe, testkit.DefaultTimeout)
	require.Equal(t, s.Id, r.Flow)
	return r.Err
}

func (f *fixture) submit(msg any) map[pool.FlowId]pool.FlowResult {
	f.probe.Send(f.pool, msg)
	r := testkit.ExpectMsg[*pool.SubmitReply](f.probe, testkit.DefaultTimeout)
	out := map[pool.FlowId]pool.FlowResult{}
	for _, res := range r.Results {
		out[res.Flow] = res
	}
	return out
}

// TestSubmitGathersOneReply: batches for flows on different workers are
// answered in one reply, with each materialized flow's output.
func TestSubmitGathersOneReply(t *testing.T) {
	f := newFixture(t, 3, nil)
	for id := pool.FlowId(1); id <= 4; id++ {
		require.NoError(t, f.register(t, spec(t, id, true), 0))
	}
	require.ErrorIs(t, f.register(t, spec(t, 2, true), 0), pool.ErrFlowExists)
	f.hist.add(ups(1, 2)...)
	res := f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(1, 0, 3, ups(1, 2)), batch(2, 0, 3, ups(1, 2)), batch(3, 0, 3, nil), batch(4, 0, 3, ups(2)), batch(9, 0, 3, nil)}})
	require.Len(t, res, 5)
	for id := pool.FlowId(1); id <= 3; id++ {
		require.NoError(t, res[id].Err)
		require.EqualValues(t, 3, res[id].Upper)
	}
	require.Len(t, res[1].Output, 2)
	require.Empty(t, res[3].Output)
	require.Len(t, res[4].Output, 1)
	require.ErrorIs(t, res[9].Err, pool.ErrUnknownFlow)

	// A batch that does not start at the checkpoint is refused.
	res = f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(1, 2, 4, nil)}})
	require.ErrorIs(t, res[1].Err, pool.ErrCheckpointMismatch)

	// SubmitToWorker: only flows of that worker (flow % 3).
	res = f.submit(&pool.SubmitToWorker{Worker: 1, Batches: []pool.FlowBatch{batch(1, 3, 4, nil), batch(4, 3, 4, nil), batch(2, 3, 4, nil)}})
	require.NoError(t, res[1].Err)
	require.NoError(t, res[4].Err)
	require.ErrorIs(t, res[2].Err, pool.ErrWrongWorker)

	// An empty submit is answered at once.
	require.Empty(t, f.submit(&pool.Submit{}))

	f.probe.Send(f.pool, &pool.Tick{Flows: []pool.FlowId{1, 2}})
	tick := testkit.ExpectMsg[*pool.TickReply](f.probe, testkit.DefaultTimeout)
	require.Len(t, tick.Stats, 2)
}

// TestPeekWaitsAndFails: a peek at t >= upper waits for the frontier, a
// peek below the since fails, and a peek of a dropped flow fails.
func TestPeekWaitsAndFails(t *testing.T) {
	f := newFixture(t, 2, nil)
	s := spec(t, 1, false)
	s.AsOf = 2
	require.NoError(t, f.register(t, s, 0))
	f.probe.Send(f.pool, &pool.Peek{Id: 1, Flow: 1, Spec: dataflow.PeekSpec{Time: 4}, ReplyTo: f.probe.PID()})
	f.probe.Send(f.pool, &pool.Peek{Id: 2, Flow: 1, Spec: dataflow.PeekSpec{Time: 1}, ReplyTo: f.probe.PID()})
	early := testkit.ExpectMsg[*pool.PeekReply](f.probe, testkit.DefaultTimeout)
	require.EqualValues(t, 2, early.Id)
	require.ErrorIs(t, early.Err, dataflow.ErrCompacted)

	res := f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(1, 0, 4, ups(1, 3))}})
	require.NoError(t, res[1].Err)
	f.probe.ExpectNoMsg(50 * time.Millisecond) // time 4 is not complete yet
	// The worker answers the peek as the batch completes time 4, before
	// the pool's gathered reply.
	f.probe.Send(f.pool, &pool.Submit{Batches: []pool.FlowBatch{batch(1, 4, 5, ups(4))}})
	msg := testkit.ExpectMsg[*pool.PeekReply](f.probe, testkit.DefaultTimeout)
	require.NoError(t, testkit.ExpectMsg[*pool.SubmitReply](f.probe, testkit.DefaultTimeout).Results[0].Err)
	require.EqualValues(t, 1, msg.Id)
	require.NoError(t, msg.Err)
	require.Len(t, msg.Rows, 3)

	f.probe.Send(f.pool, &pool.Peek{Id: 3, Flow: 1, Spec: dataflow.PeekSpec{Time: 9}, ReplyTo: f.probe.PID()})
	f.probe.Send(f.pool, &pool.DropFlow{Flow: 1})
	dropped := testkit.ExpectMsg[*pool.PeekReply](f.probe, testkit.DefaultTimeout)
	require.ErrorIs(t, dropped.Err, pool.ErrFlowDropped)
	f.probe.Send(f.pool, &pool.Peek{Id: 4, Flow: 1, Spec: dataflow.PeekSpec{Time: 1}, ReplyTo: f.probe.PID()})
	require.ErrorIs(t, testkit.ExpectMsg[*pool.PeekReply](f.probe, testkit.DefaultTimeout).Err, pool.ErrUnknownFlow)
}

// TestWorkerRestartRebuildsFromCheckpoint: a worker that panics in the
// middle of a batch is restarted; the request in flight gets
// ErrWorkerRestarted for that worker's flows (the others succeed), and the
// new incarnation holds its flows at their committed checkpoints.
func TestWorkerRestartRebuildsFromCheckpoint(t *testing.T) {
	var armed atomic.Bool
	hook := func(_ int, b pool.FlowBatch) {
		if b.Flow == 4 && armed.CompareAndSwap(true, false) {
			panic("test: worker dies")
		}
	}
	f := newFixture(t, 2, hook)
	for _, id := range []pool.FlowId{1, 2, 4} {
		require.NoError(t, f.register(t, spec(t, id, true), 0))
	}
	f.hist.add(ups(1, 2)...)
	res := f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(1, 0, 3, ups(1, 2)), batch(2, 0, 3, ups(1, 2)), batch(4, 0, 3, ups(1, 2))}})
	for _, id := range []pool.FlowId{1, 2, 4} {
		require.NoError(t, res[id].Err)
	}
	f.probe.Send(f.pool, &pool.Committed{Checkpoints: map[pool.FlowId]timely.Timestamp{1: 3, 2: 3, 4: 3}})

	// Worker 0 holds flows 2 and 4; it dies on flow 4 after applying 2.
	f.hist.add(ups(3)...)
	armed.Store(true)
	res = f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(1, 3, 4, ups(3)), batch(2, 3, 4, ups(3)), batch(4, 3, 4, ups(3))}})
	require.NoError(t, res[1].Err)
	require.ErrorIs(t, res[2].Err, pool.ErrWorkerRestarted)
	require.ErrorIs(t, res[4].Err, pool.ErrWorkerRestarted)
	testkit.Eventually(t, func() bool { return restarts(t, f.reg) == 1 }, testkit.DefaultTimeout)

	// Flow 2 was rebuilt at its committed checkpoint 3, not at 4.
	res = f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(2, 4, 5, nil)}})
	require.ErrorIs(t, res[2].Err, pool.ErrCheckpointMismatch)
	res = f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(2, 3, 5, ups(3)), batch(4, 3, 5, ups(3))}})
	require.NoError(t, res[2].Err)
	require.NoError(t, res[4].Err)
	f.probe.Send(f.pool, &pool.Peek{Id: 1, Flow: 4, Spec: dataflow.PeekSpec{Time: 4}, ReplyTo: f.probe.PID()})
	p := testkit.ExpectMsg[*pool.PeekReply](f.probe, testkit.DefaultTimeout)
	require.NoError(t, p.Err)
	require.Len(t, p.Rows, 3, "rows 1 and 2 replayed from the reader, 3 from the batch, none twice")
}

// TestRegisterAtCheckpointReplays: registering at a checkpoint replays
// the sources and drops the replay's output (committed before).
func TestRegisterAtCheckpointReplays(t *testing.T) {
	f := newFixture(t, 1, nil)
	f.hist.add(ups(1, 2, 5)...)
	require.NoError(t, f.register(t, spec(t, 7, true), 3))
	res := f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(7, 3, 6, ups(5))}})
	require.NoError(t, res[7].Err)
	require.Len(t, res[7].Output, 1, "only the batch's own output")
	f.probe.Send(f.pool, &pool.Peek{Id: 1, Flow: 7, Spec: dataflow.PeekSpec{Time: 5}, ReplyTo: f.probe.PID()})
	require.Len(t, testkit.ExpectMsg[*pool.PeekReply](f.probe, testkit.DefaultTimeout).Rows, 3)

	// A Reader failure fails the registration.
	bad := &failingReader{}
	g := newFixtureWithReader(t, bad)
	require.ErrorContains(t, g.register(t, spec(t, 1, false), 3), "boom")
}

type failingReader struct{}

func (failingReader) Read(context.Context, pool.Source, timely.Timestamp, timely.Timestamp) ([]dataflow.Update, error) {
	return nil, errors.New("boom")
}

func newFixtureWithReader(t *testing.T, r pool.Reader) *fixture {
	f := &fixture{sys: testkit.NewSystem(t)}
	f.probe = testkit.NewProbe(t, f.sys)
	f.pool = f.sys.Root.Spawn(props(t, pool.Config{Workers: 1, Reader: r, Logger: testkit.QuietLogger()}))
	return f
}

func props(t *testing.T, cfg pool.Config) *actor.Props {
	t.Helper()
	p, err := pool.New(cfg)
	require.NoError(t, err)
	return p
}

// restarts reads arbor_pool_worker_restarts_total from reg.
func restarts(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	c, err := metrics.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "arbor", Subsystem: "pool", Name: "worker_restarts_total",
		Help: "Pool workers restarted by the supervisor after a panic.",
	}))
	require.NoError(t, err)
	return testutil.ToFloat64(c)
}

// panicReader panics while armed: a flow whose rebuild panics.
type panicReader struct {
	history
	armed atomic.Bool
}

func (r *panicReader) Read(ctx context.Context, s pool.Source, from, to timely.Timestamp) ([]dataflow.Update, error) {
	if r.armed.Load() {
		panic("test: rebuild panics")
	}
	return r.history.Read(ctx, s, from, to)
}

// TestWorkerThatKeepsFailingIsStopped: a worker whose rebuild panics is
// restarted at most MaxRestarts times, then stopped; its flows' requests
// fail with ErrWorkerFailed instead of hanging or looping.
func TestWorkerThatKeepsFailingIsStopped(t *testing.T) {
	var kill atomic.Bool
	reader := &panicReader{}
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	reg := prometheus.NewRegistry()
	hook := func(_ int, b pool.FlowBatch) {
		if b.Flow == 2 && kill.CompareAndSwap(true, false) {
			panic("test: worker dies")
		}
	}
	pid := sys.Root.Spawn(props(t, pool.Config{Workers: 2, Reader: reader, Registerer: reg, Logger: testkit.QuietLogger(), BeforeApply: hook, MaxRestarts: 3}))
	f := &fixture{sys: sys, probe: probe, pool: pid, reg: reg}
	require.NoError(t, f.register(t, spec(t, 2, false), 0))
	require.NoError(t, f.register(t, spec(t, 3, false), 0))
	res := f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(2, 0, 2, ups(1))}})
	require.NoError(t, res[2].Err)
	f.probe.Send(f.pool, &pool.Committed{Checkpoints: map[pool.FlowId]timely.Timestamp{2: 2}})

	reader.armed.Store(true)
	kill.Store(true)
	res = f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(2, 2, 3, nil), batch(3, 0, 3, nil)}})
	require.ErrorIs(t, res[2].Err, pool.ErrWorkerRestarted)
	require.NoError(t, res[3].Err, "the other worker is unaffected")
	testkit.Eventually(t, func() bool {
		res := f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(2, 2, 3, nil)}})
		return errors.Is(res[2].Err, pool.ErrWorkerFailed)
	}, testkit.DefaultTimeout)
	require.EqualValues(t, 3, restarts(t, reg))
	f.probe.Send(f.pool, &pool.Peek{Id: 1, Flow: 2, Spec: dataflow.PeekSpec{Time: 1}, ReplyTo: f.probe.PID()})
	require.ErrorIs(t, testkit.ExpectMsg[*pool.PeekReply](f.probe, testkit.DefaultTimeout).Err, pool.ErrWorkerFailed)
}

// frozenReader blocks every Read until its context ends.
type frozenReader struct{ entered chan struct{} }

func (r frozenReader) Read(ctx context.Context, _ pool.Source, _, _ timely.Timestamp) ([]dataflow.Update, error) {
	r.entered <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestFrozenReader: a registration whose replay reads from a frozen
// Reader holds only its worker; the pool keeps answering (Workers, a
// registration on another worker), and the replay fails after
// Config.ReadTimeout with a TIMEOUT-coded error naming the flow and the
// read.
func TestFrozenReader(t *testing.T) {
	r := frozenReader{entered: make(chan struct{}, 4)}
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	pid := sys.Root.Spawn(props(t, pool.Config{Workers: 2, Reader: r, ReadTimeout: 300 * time.Millisecond, Logger: testkit.QuietLogger()}))
	f := &fixture{sys: sys, probe: probe, pool: pid}

	probe.Send(pid, &pool.RegisterFlow{Spec: spec(t, 1, false), Checkpoint: 3})
	<-r.entered
	probe.Send(pid, &pool.Workers{})
	require.Equal(t, 2, testkit.ExpectMsg[*pool.WorkersReply](probe, testkit.DefaultTimeout).N)
	require.NoError(t, f.register(t, spec(t, 2, false), 0), "worker 0 is not held up")

	reply := testkit.ExpectMsg[*pool.RegisterFlowReply](probe, testkit.DefaultTimeout)
	require.EqualValues(t, 1, reply.Flow)
	require.ErrorIs(t, reply.Err, messages.ErrTimeout)
	require.Equal(t, messages.ErrorCode_ERROR_CODE_TIMEOUT, messages.CodeOf(reply.Err))
	require.Contains(t, reply.Err.Error(), "rebuild flow 1: read of table u1 below 3: timed out after 300ms")
}

// TestCompactFlow: after CompactFlow a peek before the new since fails
// with ErrCompacted, one at or after it still reads the rows; a since that
// goes back changes nothing.
func TestCompactFlow(t *testing.T) {
	f := newFixture(t, 2, nil)
	s := spec(t, 1, false)
	s.AsOf = 2
	require.NoError(t, f.register(t, s, 0))
	res := f.submit(&pool.Submit{Batches: []pool.FlowBatch{batch(1, 0, 6, ups(1, 3, 4))}})
	require.NoError(t, res[1].Err)

	peek := func(id uint64, at timely.Timestamp) *pool.PeekReply {
		f.probe.Send(f.pool, &pool.Peek{Id: id, Flow: 1, Spec: dataflow.PeekSpec{Time: at}, ReplyTo: f.probe.PID()})
		return testkit.ExpectMsg[*pool.PeekReply](f.probe, testkit.DefaultTimeout)
	}
	require.NoError(t, peek(1, 3).Err, "readable before the compaction")
	f.probe.Send(f.pool, &pool.CompactFlow{Flow: 1, Since: 4})
	f.probe.Send(f.pool, &pool.CompactFlow{Flow: 1, Since: 3}) // goes back: ignored
	require.ErrorIs(t, peek(2, 3).Err, dataflow.ErrCompacted)
	after := peek(3, 5)
	require.NoError(t, after.Err)
	require.Len(t, after.Rows, 3)
}
