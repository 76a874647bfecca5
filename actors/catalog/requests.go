package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/timely"
)

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
