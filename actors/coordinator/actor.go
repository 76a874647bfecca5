package coordinator

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/timely"
)

// DefaultStoreTimeout bounds each store call unless Config.StoreTimeout
// says otherwise.
const DefaultStoreTimeout = 30 * time.Second

// Config configures a coordinator actor.
type Config struct {
	// Pool is the worker pool's PID; required.
	Pool *actor.PID
	// Store reads history and commits outputs; required.
	Store Store
	// Events receives FlowEvents; dropped when nil.
	Events *actor.PID
	// Upper is what was consumed before the first Consume: the storage
	// upper when the runtime subscribed. Earlier history is reached by
	// backfill.
	Upper timely.Timestamp
	// BackfillChunk is the most versions a backfilling flow advances per
	// round; DefaultBackfillChunk when 0.
	BackfillChunk int
	// StoreTimeout bounds each store call (one read window, one commit,
	// the checkpoints read); DefaultStoreTimeout when 0. A call that
	// takes longer fails with an error naming it that matches
	// messages.ErrTimeout.
	StoreTimeout time.Duration
	// Registerer receives the coordinator's metrics (shared with another
	// coordinator on the same registry); unregistered when nil.
	Registerer prometheus.Registerer
	// Logger receives failures; slog.Default() when nil.
	Logger *slog.Logger
}

func (c *Config) fill() error {
	if c.Pool == nil || c.Store == nil {
		return errors.New("coordinator: Config.Pool and Config.Store are required")
	}
	if c.BackfillChunk <= 0 {
		c.BackfillChunk = DefaultBackfillChunk
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "coordinator")
	return nil
}

// New returns the props of a coordinator actor around a new Core. It
// fails when the config is incomplete or its metrics cannot be
// registered. Spawn one actor from the props: a restarted incarnation
// starts with an empty Core.
func New(cfg Config) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	unhandled, err := surface.NewUnhandled("coordinator", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &coordActor{
			cfg:       cfg,
			metrics:   m,
			unhandled: unhandled,
			core:      NewCore(CoreConfig{BackfillChunk: cfg.BackfillChunk, Upper: cfg.Upper}),
		}
	}), nil
}

// coordActor is the thin actor around a Core: it decodes messages,
// carries out the Core's Effects (pool requests, replies, events; store
// reads and commits through its storeRunner, whose outcomes come back as
// storeDone messages) and keeps the metrics. It never waits in Receive.
type coordActor struct {
	// constant after construction
	cfg       Config
	metrics   *coordMetrics
	unhandled *surface.Unhandled

	// guarded by the actor
	core     *Core
	consumer *actor.PID   // sender of the Consume in progress
	waiting  []*actor.PID // senders told busy, to be told Ready

	// store I/O (store_runner.go; the runner is set in Started)
	io       *storeRunner
	coreOp   *storeOp // the Core's read or commit in flight
	cpOp     *storeOp // the checkpoints read in flight
	durable  map[pool.FlowId]timely.Timestamp
	installs []pendingInstall // InstallFlows waiting for durable
}

// pendingInstall is an InstallFlow that arrived before the committed
// checkpoints were read.
type pendingInstall struct {
	msg    *InstallFlow
	sender *actor.PID
}

// Receive handles one message.
func (a *coordActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.io = newStoreRunner(ctx, a.cfg, a.metrics)
		a.refresh()
	case *actor.Stopping, *actor.Restarting:
		// Cancel the store call in flight and wait for it (a Store returns
		// once its context is done), so that no goroutine outlives the
		// incarnation; a late storeDone is recognised as stale.
		a.io.stop()
	case *Consume:
		a.handleConsume(ctx, m)
	case *CollectionProgress:
		a.run(ctx, a.core.CollectionProgress(m.Collection, m.From, m.Upper, m.Changes))
	case *InstallFlow:
		a.installs = append(a.installs, pendingInstall{msg: m, sender: ctx.Sender()})
		a.installPending(ctx)
	case *AllowCompaction:
		err := a.core.AllowCompaction(m.Export, m.Frontier)
		if err != nil {
			a.cfg.Logger.Debug("allow compaction refused", "export", m.Export, "err", err)
		}
		if ctx.Sender() != nil {
			ctx.Respond(&AllowCompactionReply{Export: m.Export, Err: err})
		}
	case *DropFlow:
		eff, err := a.core.Drop(m.Flow)
		ctx.Respond(&DropFlowReply{Flow: m.Flow, Err: err})
		a.run(ctx, eff)
	case *Status:
		a.handleStatus(ctx)
	case *Tick:
		a.run(ctx, a.core.Tick(m.Now))
	case *continueBackfill:
		a.run(ctx, a.core.ContinueBackfill())
	case *storeDone:
		a.handleStoreDone(ctx, m)
	case *pool.RegisterFlowReply:
		a.run(ctx, a.core.Registered(m.Flow, m.Err))
	case *pool.SubmitReply:
		a.run(ctx, a.core.Submitted(m.Results, nil))
	case *pool.TickReply:
		a.run(ctx, a.core.Ticked())
	default:
		a.unhandled.Handle(ctx)
	}
}

func (a *coordActor) handleConsume(ctx actor.Context, m *Consume) {
	eff, err := a.core.Consume(m.From, m.Upper, m.Changes)
	if err != nil {
		if errors.Is(err, ErrBusy) {
			a.metrics.busyReplies.Inc()
			a.waiting = append(a.waiting, ctx.Sender())
		}
		a.respond(ctx, ctx.Sender(), &ConsumeReply{Upper: a.core.Upper(), Err: err})
		return
	}
	a.consumer = ctx.Sender()
	a.run(ctx, eff)
}

func (a *coordActor) handleStatus(ctx actor.Context) {
	states, minCp := a.core.Counts()
	r := &StatusReply{Phase: a.core.Phase(), Upper: a.core.Upper(), MinCheckpoint: minCp, Flows: states}
	for _, op := range []*storeOp{a.coreOp, a.cpOp} {
		if op != nil {
			r.StoreOps = append(r.StoreOps, op.what)
		}
	}
	ctx.Respond(r)
}

// loadCheckpoints starts reading the committed checkpoints, which
// installs need, unless they are known or a read is in flight. They are
// read when the first install needs them, and kept up to date by the
// coordinator's own commits (it is the store's only writer).
func (a *coordActor) loadCheckpoints() {
	if a.cpOp == nil && a.durable == nil {
		a.cpOp = a.io.checkpoints()
	}
}

// installPending installs the flows waiting for the checkpoints, once
// they are known and no commit is in flight (a flow dropped and installed
// again while its commit is in flight must start from what that commit
// made durable, or it would commit some output twice).
func (a *coordActor) installPending(ctx actor.Context) {
	if a.durable == nil {
		a.loadCheckpoints()
		return
	}
	if a.coreOp != nil && a.coreOp.kind == opCommit {
		return // retried when the commit's outcome arrives
	}
	pending := a.installs
	a.installs = nil
	for _, p := range pending {
		cp := a.durable[p.msg.Spec.Id]
		eff, err := a.core.Install(p.msg.Spec, cp)
		a.respond(ctx, p.sender, &InstallFlowReply{Flow: p.msg.Spec.Id, Checkpoint: cp, Err: err})
		a.run(ctx, eff)
	}
}

// handleStoreDone feeds a store operation's outcome to the Core (reads,
// commit) or to the waiting installs (checkpoints).
func (a *coordActor) handleStoreDone(ctx actor.Context, m *storeDone) {
	switch m.op {
	case a.coreOp:
		a.coreOp = nil
		if m.op.kind == opRead {
			a.run(ctx, a.core.ReadDone(m.reads))
			return
		}
		if m.err != nil {
			a.metrics.commitFailures.Inc()
			a.cfg.Logger.Error("commit of outputs and checkpoints failed", "op", m.op.what, "err", m.err)
		} else if a.durable != nil {
			for id, t := range m.op.commit.Checkpoints {
				a.durable[id] = t
			}
		}
		a.run(ctx, a.core.Committed(m.err, nil))
		a.installPending(ctx)
	case a.cpOp:
		a.cpOp = nil
		if m.err != nil {
			a.cfg.Logger.Error("reading the committed checkpoints failed; installs fail until a retry succeeds", "err", m.err)
			for _, p := range a.installs {
				err := fmt.Errorf("%w for flow %d: %w", ErrCheckpoints, p.msg.Spec.Id, m.err)
				a.respond(ctx, p.sender, &InstallFlowReply{Flow: p.msg.Spec.Id, Err: err})
			}
			a.installs = nil
			return
		}
		a.durable = m.checkpoints
		a.installPending(ctx)
	default:
		// A previous incarnation's operation: its outcome is moot.
		a.cfg.Logger.Debug("stale store outcome ignored", "op", m.op.what)
	}
}

func (a *coordActor) respond(ctx actor.Context, to *actor.PID, msg any) {
	if to != nil {
		ctx.Send(to, msg)
	}
}

// run carries out effects: messages to the pool, the runtime and the
// Consume's sender at once; a read or a commit by starting it on the
// store runner (its outcome comes back as storeDone).
func (a *coordActor) run(ctx actor.Context, eff Effects) {
	if len(eff.Events) > 0 && a.cfg.Events != nil {
		ctx.Send(a.cfg.Events, &FlowEvents{Events: eff.Events})
	}
	for _, id := range eff.Drop {
		ctx.Send(a.cfg.Pool, &pool.DropFlow{Flow: id})
	}
	if len(eff.Committed) > 0 {
		ctx.Send(a.cfg.Pool, &pool.Committed{Checkpoints: eff.Committed})
	}
	if len(eff.Rebuild) > 0 {
		ctx.Send(a.cfg.Pool, &pool.Rebuild{Flows: eff.Rebuild})
	}
	if eff.Reply {
		a.respond(ctx, a.consumer, &ConsumeReply{Upper: a.core.Upper(), Err: eff.ReplyErr})
		a.consumer = nil
	}
	if eff.Register != nil {
		ctx.Request(a.cfg.Pool, eff.Register)
	}
	if len(eff.Submit) > 0 {
		kind := "consume"
		if a.core.Phase() == AdvancingBackfill {
			kind = "backfill"
		}
		n := 0
		for _, b := range eff.Submit {
			n += b.Changes()
		}
		a.metrics.batches.WithLabelValues(kind).Inc()
		a.metrics.changesRouted.WithLabelValues(kind).Add(float64(n))
		ctx.Request(a.cfg.Pool, &pool.Submit{Batches: eff.Submit})
	}
	if len(eff.Reads) > 0 {
		a.oneCoreOp()
		a.coreOp = a.io.reads(eff.Reads)
	}
	if eff.Commit != nil {
		a.oneCoreOp()
		a.coreOp = a.io.commit(*eff.Commit)
	}
	if len(eff.Tick) > 0 {
		a.metrics.flowTicks.Add(float64(len(eff.Tick)))
		ctx.Request(a.cfg.Pool, &pool.Tick{Flows: eff.Tick})
	}
	if eff.ContinueBackfill {
		ctx.Send(ctx.Self(), &continueBackfill{})
	}
	if a.core.Phase() == Idle && len(a.waiting) > 0 {
		for _, pid := range a.waiting {
			a.respond(ctx, pid, &Ready{})
		}
		a.waiting = nil
	}
	a.refresh()
}

// oneCoreOp checks that no read or commit is in flight: the Core asks
// for one at a time, in the phases that wait for the store.
func (a *coordActor) oneCoreOp() {
	if a.coreOp != nil {
		panic(fmt.Sprintf("coordinator: a store operation started while %s is in flight", a.coreOp.what))
	}
}

func (a *coordActor) refresh() {
	states, minCp := a.core.Counts()
	for _, s := range []FlowState{FlowRegistering, FlowBackfilling, FlowActive} {
		a.metrics.flows.WithLabelValues(s.String()).Set(float64(states[s]))
	}
	a.metrics.backfillRemaining.Set(float64(a.core.BackfillRemaining()))
	a.metrics.checkpointLag.Set(float64(a.core.Upper() - minCp))
}
