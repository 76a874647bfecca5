package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/timely"
)

// serve serves a request while Ready, within one CallTimeout, answers
// it, and reports the backend outcome to the core.
func (g *guardian) serve(ctx actor.Context, r Request) {
	cctx, cancel := g.callContext()
	defer cancel()
	var err error
	switch m := r.Msg.(type) {
	case *Transact:
		var upper timely.Frontier
		var res error
		upper, res, err = g.transact(cctx, m.Apply)
		g.respond(ctx, r.Sender, &TransactResult{Upper: upper, Err: res})
	case *GetSnapshot:
		var snap *durable.Snapshot
		snap, err = g.handle.Snapshot(cctx)
		g.respond(ctx, r.Sender, &SnapshotResult{Snapshot: snap, Err: err})
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
		g.respond(ctx, r.Sender, &IdsAllocated{First: first, Err: res})
	case *Promote:
		g.servePromote(ctx, r)
		return
	}
	g.observe()
	g.apply(ctx, g.core.Outcome(err))
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

// servePromote serves Promote while Ready: a guardian promoted already
// answers with its token; a read-only one with Config.Promote closes its
// handle and reopens writable (the answer comes once Ready again); any
// other is answered ErrNotPromotable.
func (g *guardian) servePromote(ctx actor.Context, r Request) {
	switch {
	case g.core.Promoted():
		g.respond(ctx, r.Sender, &PromoteResult{Token: g.handle.Token()})
	case g.cfg.Promote == nil || g.handle.Mode() != durable.ReadOnly:
		g.respond(ctx, r.Sender, &PromoteResult{Err: fmt.Errorf("%w: the catalog is open %s, not read-only awaiting promotion", ErrNotPromotable, g.handle.Mode())})
	default:
		g.cfg.Logger.Info("promoting: taking the catalog over", "read_only_token", g.handle.Token().String())
		g.handle = nil
		g.apply(ctx, g.core.Promote(r))
	}
}
