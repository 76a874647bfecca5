package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
)

// New returns the props of a catalog guardian. It fails when the config
// is incomplete (ErrInvalidConfig) or the unknown-message counter cannot
// be registered. Every incarnation the props produce (after restarts)
// shares one Core, which records the consecutive failures, the waiting
// requests and the final error, so backoff grows across restarts and a
// fenced guardian stays fenced. Spawn one guardian from one Props value.
func New(cfg Config) (*actor.Props, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	reg := cfg.Registerer
	if reg == nil && cfg.Metrics != nil {
		reg = cfg.Metrics.reg
	}
	u, err := surface.NewUnhandled("catalog", cfg.Logger, reg)
	if err != nil {
		return nil, fmt.Errorf("catalog guardian: %w", err)
	}
	core := NewCore(cfg.InitialBackoff, cfg.MaxBackoff)
	return actor.PropsFromProducer(func() actor.Actor { return &guardian{cfg: cfg, core: core, unhandled: u} }), nil
}

// guardian is the actor: a thin shell that decodes messages, calls its
// Core and carries out the Effects, doing the backend calls (each bounded
// by Config.CallTimeout) and arming the timers. Its fields are touched
// only while it processes a message.
type guardian struct {
	// constant after construction; core and unhandled are shared by the
	// incarnations, one after the other
	cfg       Config
	core      *Core
	unhandled *surface.Unhandled

	// this incarnation's
	handle  *durable.Handle
	syncs   uint64      // handle.Syncs() already counted in metrics
	confirm *clock.Loop // leadership check, while Ready
	backoff *clock.Loop // reopen after backoff
}

// Receive decodes a message and hands it to the core.
func (g *guardian) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.apply(ctx, g.core.Start())
	case *actor.Restarting:
		g.apply(ctx, g.core.Restarting())
	case *actor.Stopping:
		g.apply(ctx, g.core.Stopping())
	case *reopen:
		g.apply(ctx, g.core.BackoffDone())
	case *confirmLeadership:
		g.handleConfirmLeadership(ctx)
	case *GetStatus:
		g.respond(ctx, ctx.Sender(), g.status())
	case *Transact, *GetSnapshot, *AllocateIds, *Promote:
		g.handleRequest(ctx, Request{Sender: ctx.Sender(), Msg: m})
	default:
		g.unhandled.Handle(ctx)
	}
}

// apply carries out the core's effects, in the order Effects lists them.
func (g *guardian) apply(ctx actor.Context, eff Effects) {
	if eff.StopTimers {
		g.stopTimers()
	}
	for _, a := range eff.Answers {
		g.respond(ctx, a.To, a.Msg)
	}
	if eff.Open {
		g.open(ctx)
	}
	// A loop replaces the one before it, which is stopped first, so none
	// is ever left running unowned.
	if eff.Backoff > 0 && !g.core.IsStopping() {
		failures, last := g.core.Failures()
		g.cfg.Logger.Warn("catalog guardian backing off before reopening", "failures", failures, "backoff", eff.Backoff, "err", last)
		self, root := ctx.Self(), ctx.ActorSystem().Root
		g.backoff.Stop()
		g.backoff = clock.AfterFunc(g.cfg.Clock, eff.Backoff, func(time.Time) { root.Send(self, &reopen{}) })
	}
	if eff.Confirm && !g.core.IsStopping() {
		self, root := ctx.Self(), ctx.ActorSystem().Root
		g.confirm.Stop()
		g.confirm = clock.Every(g.cfg.Clock, g.cfg.ConfirmInterval, func(time.Time) { root.Send(self, &confirmLeadership{}) })
	}
	if eff.Fenced != nil {
		if m := g.cfg.Metrics; m != nil {
			m.FenceEvents.Inc()
		}
		ctx.ActorSystem().EventStream.Publish(eff.Fenced)
	}
	if eff.Halt != "" {
		g.cfg.Logger.Error(eff.Halt)
		g.cfg.Halt(eff.Halt)
	}
	if eff.Fail != nil {
		g.cfg.Logger.Error("catalog guardian failing after a backend error", "err", eff.Fail.Err)
		panic(eff.Fail)
	}
}

func (g *guardian) stopTimers() {
	g.confirm.Stop()
	g.backoff.Stop()
	g.confirm, g.backoff = nil, nil
}

// open calls Config.Open within CallTimeout and reports to the core; once
// Ready it serves the waiting requests, one at a time.
func (g *guardian) open(ctx actor.Context) {
	cctx, cancel := g.callContext()
	openFn := g.cfg.Open
	if g.core.Promoted() {
		openFn = g.cfg.Promote
	}
	h, err := openFn(cctx)
	cancel()
	if err != nil {
		g.apply(ctx, g.core.OpenFailed(err))
		return
	}
	g.handle, g.syncs = h, 0
	if m := g.cfg.Metrics; m != nil {
		m.Opens.Inc()
	}
	g.observe()
	g.cfg.Logger.Info("catalog open", "token", h.Token().String(), "upper", h.Upper().String())
	g.apply(ctx, g.core.Opened())
	for {
		r, ok := g.core.NextPending()
		if !ok {
			break
		}
		g.serve(ctx, r)
	}
}

func (g *guardian) handleRequest(ctx actor.Context, r Request) {
	serve, eff := g.core.Request(r)
	g.apply(ctx, eff)
	if serve {
		g.serve(ctx, r)
	}
}

func (g *guardian) handleConfirmLeadership(ctx actor.Context) {
	if !g.core.ConfirmDue() {
		return
	}
	cctx, cancel := g.callContext()
	err := g.handle.ConfirmLeadership(cctx)
	cancel()
	if err != nil && !errors.Is(err, durable.ErrFenced) {
		g.cfg.Logger.Warn("catalog leadership check failed", "err", err)
	}
	g.observe()
	g.apply(ctx, g.core.Outcome(err))
}

func (g *guardian) status() *Status {
	s := &Status{Phase: g.core.Phase(), Err: g.core.Final(), Incarnation: g.core.Incarnation()}
	s.Failures, s.LastFailure = g.core.Failures()
	if g.handle != nil {
		s.Token, s.Upper = g.handle.Token(), g.handle.Upper()
		s.ReadOnly = g.handle.Mode() == durable.ReadOnly
	}
	s.Promoted = g.core.Promoted()
	return s
}

func (g *guardian) respond(ctx actor.Context, to *actor.PID, msg any) {
	if to != nil {
		ctx.Send(to, msg)
	}
}

// callContext bounds one backend call by Config.CallTimeout. The guardian
// makes its calls in its own turn: they are short (an open, a commit, a
// sync), and the catalog must serialize them anyway.
func (g *guardian) callContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), g.cfg.CallTimeout)
}
