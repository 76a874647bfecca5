package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/timely"
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

func (s *incarnations) get() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures, s.final
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

// takePending removes and returns the waiting requests, oldest first.
func (g *guardian) takePending() []request {
	g.shared.mu.Lock()
	defer g.shared.mu.Unlock()
	p := g.shared.pending
	g.shared.pending = nil
	return p
}

// popPending removes and returns the oldest waiting request.
func (g *guardian) popPending() (request, bool) {
	g.shared.mu.Lock()
	defer g.shared.mu.Unlock()
	if len(g.shared.pending) == 0 {
		return request{}, false
	}
	r := g.shared.pending[0]
	g.shared.pending = g.shared.pending[1:]
	return r, true
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
	g.shared.mu.Unlock()
	failures, final := g.shared.get()
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

// handleRequest serves a request, or queues it until the catalog is open,
// or answers it with the final error.
func (g *guardian) handleRequest(ctx actor.Context, sender *actor.PID, msg any) {
	switch g.phase {
	case PhaseOpening, PhaseBackoff:
		g.shared.mu.Lock()
		g.shared.pending = append(g.shared.pending, request{sender: sender, msg: msg})
		g.shared.mu.Unlock()
		return
	case PhaseFenced, PhaseHalted:
		g.respond(ctx, sender, g.failed(msg, g.final))
		return
	}
	cctx, cancel := g.callContext()
	defer cancel()
	var err error
	switch m := msg.(type) {
	case *Transact:
		var upper timely.Frontier
		var res error
		upper, res, err = g.transact(cctx, m.Apply)
		g.respond(ctx, sender, &TransactResult{Upper: upper, Err: res})
	case *GetSnapshot:
		var snap *durable.Snapshot
		snap, err = g.handle.Snapshot(cctx)
		g.respond(ctx, sender, &SnapshotResult{Snapshot: snap, Err: err})
	case *AllocateIds:
		var first uint64
		var res error
		_, res, err = g.transact(cctx, func(tx *durable.Transaction) error {
			var err error
			first, err = tx.AllocateIds(m.Allocator, m.Count)
			return err
		})
		if res != nil {
			first = 0
		}
		g.respond(ctx, sender, &IdsAllocated{First: first, Err: res})
	}
	g.after(ctx, err)
}

// transact runs apply on an optimistic transaction (no read before it; the
// commit's compare-and-append catches any other writer) and commits it. If
// the commit finds the catalog moved without a fence, it runs apply once
// more on the synced state. An error from apply aborts and is returned as
// the result, with a nil error for the guardian (nothing was written).
func (g *guardian) transact(ctx context.Context, apply func(tx *durable.Transaction) error) (timely.Frontier, error, error) {
	start := g.cfg.Clock.Now()
	for attempt := 0; ; attempt++ {
		tx, err := g.handle.Begin()
		if err != nil {
			return timely.Frontier{}, err, err
		}
		if apply != nil {
			if err := safeApply(apply, tx); err != nil {
				tx.Abort()
				return timely.Frontier{}, err, nil
			}
		}
		empty := tx.IsEmpty()
		upper, err := tx.Commit(ctx)
		if errors.Is(err, durable.ErrStaleTransaction) && attempt == 0 {
			continue
		}
		if !empty {
			g.countCommit(start, err)
		}
		return upper, err, err
	}
}

// safeApply runs a caller's transaction function, turning a panic into an
// error: a bug in one caller must not restart the guardian (which would take
// the catalog over again with a new epoch).
func safeApply(apply func(*durable.Transaction) error, tx *durable.Transaction) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrApplyPanicked, p)
		}
	}()
	return apply(tx)
}

// failed builds the response to msg that carries err.
func (g *guardian) failed(msg any, err error) any {
	switch msg.(type) {
	case *Transact:
		return &TransactResult{Err: err}
	case *GetSnapshot:
		return &SnapshotResult{Err: err}
	case *AllocateIds:
		return &IdsAllocated{Err: err}
	}
	return err
}

// after reacts to the outcome of a backend call: a fence is final; a
// backend error fails the guardian so that it restarts with backoff.
func (g *guardian) after(ctx actor.Context, err error) {
	g.observe()
	var fe *durable.FenceError
	switch {
	case err == nil:
	case errors.As(err, &fe):
		g.becomeFinal(ctx, PhaseFenced, fe)
	case errors.Is(err, durable.ErrBackend):
		g.fail(err)
	}
}

// fail records a transient failure and panics, so the supervisor restarts
// the guardian; the next incarnation backs off, then reopens.
func (g *guardian) fail(err error) {
	g.shared.mu.Lock()
	g.shared.failures++
	g.shared.lastErr = err
	g.shared.mu.Unlock()
	g.cfg.Logger.Error("catalog guardian failing after a backend error", "err", err)
	panic(&TransientFailure{Err: err})
}

// becomeFinal enters Fenced or Halted for good: it stops confirming
// leadership, answers everything waiting and everything later with err,
// publishes Fenced and asks the node to halt.
func (g *guardian) becomeFinal(ctx actor.Context, phase Phase, err error) {
	if g.phase.final() {
		return
	}
	g.phase, g.final = phase, err
	g.shared.mu.Lock()
	g.shared.final = err
	g.shared.mu.Unlock()
	g.ticker.Stop()
	g.backoff.Stop()
	for _, r := range g.takePending() {
		g.respond(ctx, r.sender, g.failed(r.msg, err))
	}
	var reason string
	var fe *durable.FenceError
	if errors.As(err, &fe) {
		if m := g.cfg.Metrics; m != nil {
			m.FenceEvents.Inc()
		}
		ctx.ActorSystem().EventStream.Publish(&Fenced{Current: fe.Current, Fence: fe.Fence, Err: fe})
		reason = fmt.Sprintf("catalog fenced by a newer environment: this node's token is %s, the catalog's is %s (%s); halting", fe.Current, fe.Fence, fe.Kind)
		if fe.Kind == durable.FenceMigrationUpper {
			reason = fmt.Sprintf("catalog fenced: %v; halting", fe)
		}
	} else {
		reason = fmt.Sprintf("catalog cannot be opened: %v; halting", err)
	}
	g.cfg.Logger.Error(reason)
	g.cfg.Halt(reason)
}

// countCommit counts a commit that began at start and ended with err.
func (g *guardian) countCommit(start time.Time, err error) {
	m := g.cfg.Metrics
	if m == nil {
		return
	}
	result := ResultOK
	switch {
	case err == nil:
	case errors.Is(err, durable.ErrFenced):
		result = ResultFenced
	case errors.Is(err, durable.ErrStaleTransaction):
		result = ResultStale
	default:
		result = ResultError
	}
	m.Commits.WithLabelValues(result).Inc()
	m.CommitLatency.Observe(g.cfg.Clock.Since(start).Seconds())
}

// observe copies the handle's counters into the metrics.
func (g *guardian) observe() {
	m := g.cfg.Metrics
	if m == nil || g.handle == nil {
		return
	}
	if s := g.handle.Syncs(); s > g.syncs {
		m.Syncs.Add(float64(s - g.syncs))
		g.syncs = s
	}
	for k, n := range g.handle.Counts() {
		m.Entries.WithLabelValues(k.String()).Set(float64(n))
	}
}
