package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
)

// Props returns the props of a catalog guardian. Every incarnation the props
// produce (after restarts) shares one record of consecutive failures and of
// the final error, so backoff grows across restarts and a fenced guardian
// stays fenced. Spawn one guardian from one Props value. It panics on an
// invalid Config, which is a programming error.
func Props(cfg Config) *actor.Props {
	cfg, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	shared := &incarnations{}
	return actor.PropsFromProducer(func() actor.Actor { return &guardian{cfg: cfg, shared: shared} })
}

// incarnations is what survives a restart of the guardian.
type incarnations struct {
	mu       sync.Mutex
	failures int   // consecutive transient failures; 0 after a good open
	lastErr  error // the latest transient failure
	starts   int   // incarnations started
	final    error // set once Fenced or Halted
	// pending are requests waiting for the catalog to open; they survive a
	// failed reopen.
	pending []request
}

// request is a request waiting for the catalog to open.
type request struct {
	sender *actor.PID
	msg    any
}

// guardian is the actor. Its fields are touched only while it processes a
// message.
type guardian struct {
	// Constant after start.
	cfg    Config
	shared *incarnations

	phase   Phase
	handle  *durable.Handle
	final   error
	syncs   uint64 // handle.Syncs() already counted in metrics
	ticker  *timer // leadership confirmation, while Ready
	backoff *timer // reopen after backoff
}

// Receive decodes a message and hands it to its handler.
func (g *guardian) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.handleStarted(ctx)
	case *actor.Stopping, *actor.Restarting:
		g.ticker.Stop()
		g.backoff.Stop()
	case *reopen:
		g.handleReopen(ctx)
	case *confirmLeadership:
		g.handleConfirmLeadership(ctx)
	case *GetStatus:
		g.respond(ctx, ctx.Sender(), g.status())
	case *Transact, *GetSnapshot, *AllocateIds:
		g.handleRequest(ctx, ctx.Sender(), m)
	default:
		if _, system := m.(actor.SystemMessage); system {
			return
		}
		if _, auto := m.(actor.AutoReceiveMessage); auto {
			return
		}
		if ctx.Sender() != nil {
			ctx.Respond(fmt.Errorf("%w: %T", ErrUnknownRequest, m))
		}
	}
}

func (g *guardian) status() *Status {
	s := &Status{Phase: g.phase, Err: g.final}
	g.shared.mu.Lock()
	s.Failures, s.LastFailure, s.Incarnation = g.shared.failures, g.shared.lastErr, g.shared.starts
	g.shared.mu.Unlock()
	if g.handle != nil {
		s.Token, s.Upper = g.handle.Token(), g.handle.Upper()
	}
	return s
}

func (g *guardian) respond(ctx actor.Context, to *actor.PID, msg any) {
	if to != nil {
		ctx.Send(to, msg)
	}
}

func (g *guardian) callContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), g.cfg.CallTimeout)
}

func (g *guardian) handleStarted(ctx actor.Context) {
	g.shared.mu.Lock()
	g.shared.starts++
	failures, final := g.shared.failures, g.shared.final
	g.shared.mu.Unlock()
	if final != nil {
		// A restarted incarnation of a fenced guardian stays fenced.
		g.final = final
		g.phase = PhaseFenced
		if !errors.Is(final, durable.ErrFenced) {
			g.phase = PhaseHalted
		}
		return
	}
	if failures == 0 {
		// Open before any request is looked at, so the first requests
		// need not wait in pending.
		g.phase = PhaseOpening
		g.handleReopen(ctx)
		return
	}
	g.phase = PhaseBackoff
	d := g.cfg.backoff(failures)
	g.cfg.Logger.Warn("catalog guardian backing off before reopening", "failures", failures, "backoff", d)
	self, root := ctx.Self(), ctx.ActorSystem().Root
	g.backoff = startTimer(g.cfg.Clock, d, false, func() { root.Send(self, &reopen{}) })
}

func (g *guardian) handleReopen(ctx actor.Context) {
	if g.phase != PhaseOpening && g.phase != PhaseBackoff {
		return
	}
	g.phase = PhaseOpening
	cctx, cancel := g.callContext()
	h, err := g.cfg.Open(cctx)
	cancel()
	var fe *durable.FenceError
	switch {
	case errors.As(err, &fe):
		g.becomeFinal(ctx, PhaseFenced, fe)
		return
	case errors.Is(err, durable.ErrIncompatibleVersion):
		g.becomeFinal(ctx, PhaseHalted, fmt.Errorf("%w: %w", ErrHalted, err))
		return
	case err != nil:
		g.fail(fmt.Errorf("open catalog: %w", err))
	}
	g.handle, g.syncs = h, 0
	g.shared.mu.Lock()
	g.shared.failures = 0
	g.shared.mu.Unlock()
	g.phase = PhaseReady
	if m := g.cfg.Metrics; m != nil {
		m.Opens.Inc()
	}
	g.observe()
	g.cfg.Logger.Info("catalog open", "token", h.Token().String(), "upper", h.Upper().String())
	self, root := ctx.Self(), ctx.ActorSystem().Root
	g.ticker = startTimer(g.cfg.Clock, g.cfg.ConfirmInterval, true, func() { root.Send(self, &confirmLeadership{}) })
	// One at a time, so that requests behind one that fails the guardian
	// wait for the next incarnation.
	for {
		r, ok := g.popPending()
		if !ok {
			break
		}
		g.handleRequest(ctx, r.sender, r.msg)
	}
}

func (g *guardian) handleConfirmLeadership(ctx actor.Context) {
	if g.phase != PhaseReady {
		return
	}
	cctx, cancel := g.callContext()
	err := g.handle.ConfirmLeadership(cctx)
	cancel()
	if err != nil && !errors.Is(err, durable.ErrFenced) {
		g.cfg.Logger.Warn("catalog leadership check failed", "err", err)
	}
	g.after(ctx, err)
}
