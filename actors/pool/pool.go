package pool

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
)

// Config configures a pool.
type Config struct {
	// Workers is the number of workers; runtime.GOMAXPROCS(0) when zero.
	Workers int
	// Reader reads source history when a worker rebuilds a flow from a
	// checkpoint above zero. Required for rebuilds.
	Reader Reader
	// Metrics receives the pool's metrics; unregistered ones when nil.
	Metrics *Metrics
	// Logger receives restarts and rebuild failures; slog.Default() when
	// nil.
	Logger *slog.Logger
	// BeforeApply, when set, is called by a worker before it applies each
	// batch. Tests use it to panic in the middle of a batch.
	BeforeApply func(worker int, b FlowBatch)
	// ReadTimeout bounds each Reader call of a rebuild;
	// DefaultReadTimeout when zero.
	ReadTimeout time.Duration
	// MaxRestarts bounds the restarts of a worker that fails again before
	// it answered anything (a flow whose rebuild panics); past it the
	// worker is stopped and its flows fail with ErrWorkerFailed.
	// DefaultMaxRestarts when zero.
	MaxRestarts int
}

// DefaultMaxRestarts is the default Config.MaxRestarts.
const DefaultMaxRestarts = 10

// DefaultReadTimeout is the default Config.ReadTimeout.
const DefaultReadTimeout = 30 * time.Second

// Props returns the props of a pool actor. Its workers are its children,
// spawned when it starts; the pool is their supervisor and restarts a
// worker that panics.
func Props(cfg Config) *actor.Props {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Metrics == nil {
		cfg.Metrics, _ = NewMetrics(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.MaxRestarts <= 0 {
		cfg.MaxRestarts = DefaultMaxRestarts
	}
	return actor.PropsFromProducer(func() actor.Actor { return newPool(cfg) })
}

// poolActor fans requests out to workers and gathers one reply for each.
// It implements actor.SupervisorStrategy so that it learns which worker
// failed: that worker's part of every request in flight is answered with
// ErrWorkerRestarted.
type poolActor struct {
	// constant after start
	cfg     Config
	sys     *actor.ActorSystem
	reg     *registry
	workers []*actor.PID

	// guarded by the actor
	nextReq  uint64
	pending  map[uint64]*gather
	failures []int  // per worker: failures since its last answer
	dead     []bool // per worker: stopped after too many failures
}

var _ actor.SupervisorStrategy = (*poolActor)(nil)

func newPool(cfg Config) *poolActor {
	return &poolActor{cfg: cfg, pending: map[uint64]*gather{}}
}

// Receive handles one message.
func (p *poolActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.start(ctx)
	case *RegisterFlow:
		p.handleRegister(ctx, m)
	case *Submit:
		p.handleSubmit(ctx, m.Batches, -1)
	case *SubmitToWorker:
		p.handleSubmit(ctx, m.Batches, m.Worker)
	case *Tick:
		p.handleTick(ctx, m)
	case *Committed:
		p.reg.commit(m.Checkpoints)
	case *Rebuild:
		p.handleRebuild(ctx, m)
	case *DropFlow:
		if p.reg.has(m.Flow) {
			p.reg.remove(m.Flow)
			p.cfg.Metrics.Flows.Dec()
		}
		if w := workerOf(m.Flow, len(p.workers)); !p.dead[w] {
			ctx.Send(p.workers[w], &workerDrop{flow: m.Flow})
		}
	case *Peek:
		if w := workerOf(m.Flow, len(p.workers)); p.dead[w] {
			replyPeek(ctx, *m, nil, p.deadErr(w, m.Flow))
		} else {
			ctx.Send(p.workers[w], m)
		}
	case *Workers:
		ctx.Respond(&WorkersReply{N: len(p.workers)})
	case *workerReply:
		p.handleWorkerReply(ctx, m)
	}
}

func (p *poolActor) start(ctx actor.Context) {
	n := p.cfg.Workers
	p.sys = ctx.ActorSystem()
	p.reg = newRegistry(n)
	p.workers = make([]*actor.PID, n)
	p.failures = make([]int, n)
	p.dead = make([]bool, n)
	for i := 0; i < n; i++ {
		i := i
		props := actor.PropsFromProducer(func() actor.Actor {
			return &worker{index: i, reg: p.reg, reader: p.cfg.Reader, readTimeout: p.cfg.ReadTimeout, hook: p.cfg.BeforeApply, log: p.cfg.Logger}
		})
		p.workers[i] = ctx.Spawn(props)
	}
}

// HandleFailure restarts the failed worker and fails its part of every
// request in flight. It runs in the pool's context.
func (p *poolActor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, _ any) {
	w := -1
	for i, pid := range p.workers {
		if pid.Equal(child) {
			w = i
		}
	}
	if w < 0 {
		sup.RestartChildren(child)
		return
	}
	p.failures[w]++
	if p.failures[w] > p.cfg.MaxRestarts {
		p.cfg.Logger.Error("pool worker keeps failing; stopping it", "worker", w, "failures", p.failures[w], "reason", fmt.Sprint(reason))
		p.dead[w] = true
		sup.StopChildren(child)
	} else {
		p.cfg.Logger.Error("pool worker panicked; restarting it", "worker", w, "reason", fmt.Sprint(reason))
		p.cfg.Metrics.WorkerRestarts.Inc()
		// Restart first: the new incarnation rebuilds before it reads its
		// mailbox, so the replies below can be acted on at once.
		sup.RestartChildren(child)
	}
	for id, g := range p.pending {
		if g.fail(w) {
			delete(p.pending, id)
			p.send(g)
		}
	}
}

// deadErr is the error of a request for a flow on a stopped worker.
func (p *poolActor) deadErr(w int, id FlowId) error {
	return fmt.Errorf("%w: worker %d holding flow %d failed %d times in a row and was stopped", ErrWorkerFailed, w, id, p.failures[w])
}

func (p *poolActor) send(g *gather) {
	if g.sender != nil {
		p.sys.Root.Send(g.sender, g.reply())
	}
}

func (p *poolActor) begin(ctx actor.Context, kind gatherKind) (uint64, *gather) {
	p.nextReq++
	g := &gather{kind: kind, sender: ctx.Sender(), waiting: map[int][]FlowId{}, stats: map[FlowId]dataflow.Stats{}}
	p.pending[p.nextReq] = g
	return p.nextReq, g
}

// finish replies at once when nothing was sent to any worker.
func (p *poolActor) finish(id uint64, g *gather) {
	if len(g.waiting) == 0 {
		delete(p.pending, id)
		p.send(g)
	}
}

func (p *poolActor) handleRegister(ctx actor.Context, m *RegisterFlow) {
	id, g := p.begin(ctx, gatherRegister)
	if p.reg.has(m.Spec.Id) {
		g.results = append(g.results, FlowResult{Flow: m.Spec.Id, Err: fmt.Errorf("%w: flow %d", ErrFlowExists, m.Spec.Id)})
		p.finish(id, g)
		return
	}
	w := workerOf(m.Spec.Id, len(p.workers))
	if p.dead[w] {
		g.results = append(g.results, FlowResult{Flow: m.Spec.Id, Err: p.deadErr(w, m.Spec.Id)})
		p.finish(id, g)
		return
	}
	p.reg.add(m.Spec, m.Checkpoint)
	p.cfg.Metrics.Flows.Inc()
	g.waiting[w] = []FlowId{m.Spec.Id}
	ctx.Send(p.workers[w], &workerRegister{req: id, spec: m.Spec, checkpoint: m.Checkpoint})
}

// handleSubmit groups batches by worker; only is the one worker allowed,
// or -1 for any.
func (p *poolActor) handleSubmit(ctx actor.Context, batches []FlowBatch, only int) {
	id, g := p.begin(ctx, gatherSubmit)
	n := len(p.workers)
	byWorker := map[int][]FlowBatch{}
	for _, b := range batches {
		w := workerOf(b.Flow, n)
		if only >= 0 && w != only {
			g.results = append(g.results, FlowResult{Flow: b.Flow, Err: fmt.Errorf("%w: flow %d lives on worker %d, not %d", ErrWrongWorker, b.Flow, w, only)})
			continue
		}
		if p.dead[w] {
			g.results = append(g.results, FlowResult{Flow: b.Flow, Err: p.deadErr(w, b.Flow)})
			continue
		}
		byWorker[w] = append(byWorker[w], b)
		g.waiting[w] = append(g.waiting[w], b.Flow)
	}
	for w, bs := range byWorker {
		ctx.Send(p.workers[w], &workerSubmit{req: id, batches: bs})
	}
	p.finish(id, g)
}

func (p *poolActor) handleTick(ctx actor.Context, m *Tick) {
	id, g := p.begin(ctx, gatherTick)
	byWorker := map[int][]FlowId{}
	for _, f := range m.Flows {
		w := workerOf(f, len(p.workers))
		if p.dead[w] {
			continue
		}
		byWorker[w] = append(byWorker[w], f)
		g.waiting[w] = append(g.waiting[w], f)
	}
	for w, fs := range byWorker {
		ctx.Send(p.workers[w], &workerTick{req: id, flows: fs, now: m.Now})
	}
	p.finish(id, g)
}

func (p *poolActor) handleRebuild(ctx actor.Context, m *Rebuild) {
	byWorker := map[int][]FlowId{}
	for _, f := range m.Flows {
		w := workerOf(f, len(p.workers))
		byWorker[w] = append(byWorker[w], f)
	}
	for w, fs := range byWorker {
		if !p.dead[w] {
			ctx.Send(p.workers[w], &workerRebuild{flows: fs})
		}
	}
}

func (p *poolActor) handleWorkerReply(_ actor.Context, m *workerReply) {
	p.failures[m.worker] = 0
	g, ok := p.pending[m.req]
	if !ok {
		return // its worker was declared failed; a late answer
	}
	if g.kind == gatherRegister {
		for _, r := range m.results {
			if r.Err != nil && p.reg.has(r.Flow) {
				p.reg.remove(r.Flow) // not registered after all
				p.cfg.Metrics.Flows.Dec()
			}
		}
	}
	if g.add(m) {
		delete(p.pending, m.req)
		p.send(g)
	}
}
