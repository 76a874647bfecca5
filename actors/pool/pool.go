package pool

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/surface"
)

// Config configures a pool.
type Config struct {
	// Workers is the number of workers; runtime.GOMAXPROCS(0) when zero.
	Workers int
	// Reader reads source history when a worker rebuilds a flow from a
	// checkpoint above zero. Required for rebuilds.
	Reader Reader
	// ReadTimeout bounds each Reader call of a rebuild;
	// DefaultReadTimeout when zero.
	ReadTimeout time.Duration
	// MaxRestarts bounds the restarts of a worker that fails again before
	// it answered anything (a flow whose rebuild panics); past it the
	// worker is stopped and its flows fail with ErrWorkerFailed.
	// DefaultMaxRestarts when zero.
	MaxRestarts int
	// Registerer receives the pool's metrics (shared with another pool on
	// the same registry); unregistered when nil.
	Registerer prometheus.Registerer
	// Logger receives restarts and rebuild failures; slog.Default() when
	// nil.
	Logger *slog.Logger
	// BeforeApply, when set, is called by a worker before it applies each
	// batch. Tests use it to panic in the middle of a batch.
	BeforeApply func(worker int, b FlowBatch)
}

// DefaultMaxRestarts is the default Config.MaxRestarts.
const DefaultMaxRestarts = 10

// DefaultReadTimeout is the default Config.ReadTimeout.
const DefaultReadTimeout = 30 * time.Second

func (c *Config) fill() error {
	if c.Workers < 0 {
		return errors.New("pool: Config.Workers is negative")
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.MaxRestarts <= 0 {
		c.MaxRestarts = DefaultMaxRestarts
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "pool")
	return nil
}

// New returns the props of a pool actor. Its workers are its children,
// spawned when it starts; the pool is their supervisor and restarts a
// worker that panics. It fails when the config is invalid or the metrics
// cannot be registered.
func New(cfg Config) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	// One Unhandled per actor (it is not safe for concurrent use): the
	// pool's and each worker's.
	unhandled := make([]*surface.Unhandled, cfg.Workers+1)
	for i := range unhandled {
		name := "pool"
		if i > 0 {
			name = "pool-worker"
		}
		if unhandled[i], err = surface.NewUnhandled(name, cfg.Logger, cfg.Registerer); err != nil {
			return nil, fmt.Errorf("pool: %w", err)
		}
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &poolActor{cfg: cfg, metrics: m, unhandled: unhandled[0], workerUnhandled: unhandled[1:], core: newCore(cfg.Workers, cfg.MaxRestarts)}
	}), nil
}

// poolActor is the thin shell around a core: it decodes messages, feeds
// the core and carries out its effects (messages to workers, gathered
// replies, supervision decisions, registry changes). It implements
// actor.SupervisorStrategy so that it learns which worker failed.
type poolActor struct {
	// constant after start
	cfg       Config
	metrics   *poolMetrics
	unhandled *surface.Unhandled
	// per worker, kept across the worker's restarts
	workerUnhandled []*surface.Unhandled
	sys             *actor.ActorSystem
	reg             *registry
	workers         []*actor.PID

	// guarded by the actor
	core *core
}

var _ actor.SupervisorStrategy = (*poolActor)(nil)

// Receive handles one message.
func (p *poolActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.start(ctx)
	case *RegisterFlow:
		p.apply(p.core.Register(ctx.Sender(), m), nil)
	case *Submit:
		p.apply(p.core.Submit(ctx.Sender(), m.Batches, -1), nil)
	case *SubmitToWorker:
		p.apply(p.core.Submit(ctx.Sender(), m.Batches, m.Worker), nil)
	case *Tick:
		p.apply(p.core.Tick(ctx.Sender(), m), nil)
	case *Committed:
		p.reg.commit(m.Checkpoints)
	case *Rebuild:
		p.apply(p.core.Rebuild(m.Flows), nil)
	case *DropFlow:
		p.apply(p.core.Drop(m.Flow), nil)
	case *CompactFlow:
		p.apply(p.core.Compact(m.Flow, m.Since), nil)
	case *Peek:
		p.apply(p.core.Peek(m), nil)
	case *Workers:
		ctx.Respond(&WorkersReply{N: len(p.workers)})
	case *workerReply:
		p.apply(p.core.WorkerReplied(m), nil)
	default:
		p.unhandled.Handle(ctx)
	}
}

func (p *poolActor) start(ctx actor.Context) {
	n := p.cfg.Workers
	p.sys = ctx.ActorSystem()
	p.reg = newRegistry(n)
	p.workers = make([]*actor.PID, n)
	for i := 0; i < n; i++ {
		props := actor.PropsFromProducer(func() actor.Actor {
			return &worker{index: i, reg: p.reg, reader: p.cfg.Reader, readTimeout: p.cfg.ReadTimeout, hook: p.cfg.BeforeApply, log: p.cfg.Logger, unhandled: p.workerUnhandled[i]}
		})
		p.workers[i] = ctx.Spawn(props)
	}
}

// HandleFailure feeds a worker's failure to the core, which decides
// between a restart and a stop and fails the worker's part of every
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
	p.apply(p.core.WorkerFailed(w, fmt.Sprint(reason)), sup)
}

// apply carries out effects in the order effects documents. sup is the
// supervisor handle of HandleFailure (nil elsewhere).
func (p *poolActor) apply(eff effects, sup actor.Supervisor) {
	if s := eff.Supervise; s != nil && sup != nil {
		child := p.workers[s.worker]
		if s.stop {
			p.cfg.Logger.Error("pool worker keeps failing; stopping it", "worker", s.worker, "failures", s.failures, "reason", s.reason)
			sup.StopChildren(child)
		} else {
			p.cfg.Logger.Error("pool worker panicked; restarting it", "worker", s.worker, "reason", s.reason)
			p.metrics.workerRestarts.Inc()
			// Restart first: the new incarnation rebuilds before it reads
			// its mailbox, so the replies below can be acted on at once.
			sup.RestartChildren(child)
		}
	}
	if eff.Add != nil {
		p.reg.add(eff.Add.spec, eff.Add.checkpoint)
	}
	for _, id := range eff.Remove {
		p.reg.remove(id)
	}
	for _, s := range eff.Sends {
		p.sys.Root.Send(p.workers[s.worker], s.msg)
	}
	for _, f := range eff.PeekFailures {
		replyPeek(p.sys.Root, f.peek, nil, f.err)
	}
	for _, r := range eff.Replies {
		if r.to != nil {
			p.sys.Root.Send(r.to, r.msg)
		}
	}
	p.metrics.flows.Set(float64(p.core.Flows()))
}
