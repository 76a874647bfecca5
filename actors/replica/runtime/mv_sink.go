package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// A materialized view's sink appends the view's committed output to its
// storage collection (ARCHITECTURE.md §6). Every replica of a cluster
// computes the same output, and each appends with compare-and-append at
// the collection's upper as it last learned it: the first append of a
// time range wins; a replica whose append finds another upper adopts it
// (another replica wrote that range) and continues from there. So no
// range is written twice and, since every replica appends everything from
// the upper to its checkpoint, none is lost while one replica runs.
//
// The output comes from the runtime's output store, like a subscribe's:
// as the flow's checkpoint advances, the output in [upper, checkpoint) is
// committed there, and the sink reads it with ShardStore.ReadView and
// sends one StorageAppend covering exactly that range. One request is in
// flight per sink. The sink starts (after a restart or a rebuild too) by
// asking storage for the collection's upper, and appends only after the
// controller's AllowWrites for the sink.

// mvSink is the state of one materialized view's sink.
type mvSink struct {
	collection timely.GlobalId
	// upper is the collection's upper as last learned (from storage's
	// frontiers or an append's answer); known says it was learned.
	upper timely.Timestamp
	known bool
	// busy: a frontiers call or an append of this sink is in flight.
	busy bool
	// off: storage does not know the collection (never created, or
	// dropped); the sink appends nothing more. Logged once.
	off bool
}

// advanceSinks advances every sink (after CDC progress: a sink that
// failed transiently tries again).
func (a *runtimeActor) advanceSinks(ctx actor.Context) {
	for _, f := range a.flows {
		a.advanceSink(ctx, f)
	}
}

// advanceSink moves a sink forward: it learns the collection's upper,
// or appends the committed output from the upper to the checkpoint.
func (a *runtimeActor) advanceSink(ctx actor.Context, f *flowState) {
	s := f.mv
	if s == nil || s.busy || s.off || !f.life.Installed() || !f.writesAllowed || a.flows[f.export] != f {
		return
	}
	if !s.known {
		a.learnUpper(ctx, f)
		return
	}
	lo, hi := s.upper, f.checkpoint
	if u, ok := f.df.Until.Time(); ok {
		// Nothing at or after the until is appended: the collection is
		// complete there.
		hi = min(hi, u)
	}
	if hi <= lo {
		return
	}
	if asOf := f.spec.AsOf; lo < asOf {
		// The collection is behind the flow's as_of: the flow's output
		// before the as_of is folded into it, so appending it as is would
		// write what the collection already has once more.
		if hi > asOf {
			a.correctSink(ctx, f, lo, hi, asOf)
		}
		return
	}
	// Served from the output store's in-memory copy of the view after its
	// first read (like a subscribe's batches), within the storage deadline.
	us, err := a.readView(f, lo, hi)
	if err != nil {
		return
	}
	var ups []*messages.StorageUpdate
	for _, u := range us {
		ups = append(ups, &messages.StorageUpdate{Row: rowToWire(u.Row), Time: uint64(u.Time), Diff: u.Diff})
	}
	a.sendAppend(ctx, f, lo, hi, ups)
}

// readView reads the view's committed output in [from, to) from the output
// store, within the storage deadline.
func (a *runtimeActor) readView(f *flowState, from, to timely.Timestamp) ([]dataflow.Update, error) {
	rctx, cancel := context.WithTimeout(context.Background(), a.cfg.StorageTimeout)
	us, err := a.store.ReadView(rctx, f.export, from, to)
	cancel()
	if err != nil {
		a.cfg.Logger.Warn("materialized view sink cannot read its output; retrying", "view", f.export, "err", err)
	}
	return us, err
}

// correctSink appends [lo, hi) to a collection whose upper lo is before the
// flow's as_of (a replica that joined after the others stopped appending,
// with a history compacted past the collection's upper). The flow knows
// the view only from the as_of on, so the append puts at the as_of the
// difference between the view there and the collection's contents at
// lo-1, and the flow's later changes at their times: the collection is
// exact from the as_of on, and keeps its last contents in [lo, as_of).
func (a *runtimeActor) correctSink(ctx actor.Context, f *flowState, lo, hi, asOf timely.Timestamp) {
	s := f.mv
	build := func(ctx actor.Context, have []*messages.StorageRowDiff) {
		us, err := a.readView(f, 0, hi)
		if err != nil {
			return
		}
		var ups []*messages.StorageUpdate
		for _, u := range us {
			ups = append(ups, &messages.StorageUpdate{Row: rowToWire(u.Row), Time: uint64(max(u.Time, asOf)), Diff: u.Diff})
		}
		for _, rd := range have {
			ups = append(ups, &messages.StorageUpdate{Row: rd.GetRow(), Time: uint64(asOf), Diff: -rd.GetDiff()})
		}
		a.sendAppend(ctx, f, lo, hi, ups)
	}
	if lo == 0 {
		build(ctx, nil) // nothing below 0
		return
	}
	s.busy = true
	at := uint64(lo - 1)
	what := fmt.Sprintf("snapshot of collection %s at %d (view %s)", s.collection, at, f.export)
	a.call(ctx, what, &messages.StorageSnapshot{Tables: []*messages.GlobalId{messages.FromGlobalId(s.collection)}, AsOf: &at}, func(ctx actor.Context, res any, err error) {
		s.busy = false
		if a.flows[f.export] != f {
			return
		}
		var have []*messages.StorageRowDiff
		if err = refused(what, res, err); err == nil {
			snap, ok := res.(*messages.StorageSnapshotResponse)
			switch {
			case !ok:
				err = fmt.Errorf("%w: %s: unexpected answer %T", ErrStorage, what, res)
			default:
				err = storageErr(ErrStorage, what, snap.GetError())
				for _, tc := range snap.GetTables() {
					have = append(have, tc.GetRows()...)
				}
			}
		}
		if err != nil {
			a.sinkFailed(f, what, err)
			return
		}
		a.metrics.sinkAppends.WithLabelValues("corrected").Inc()
		build(ctx, have)
	})
}

// sendAppend sends one compare-and-append of ups as [lo, hi) and handles
// its answer.
func (a *runtimeActor) sendAppend(ctx actor.Context, f *flowState, lo, hi timely.Timestamp, ups []*messages.StorageUpdate) {
	s := f.mv
	req := &messages.StorageAppend{Collection: messages.FromGlobalId(s.collection), ExpectedUpper: uint64(lo), NewUpper: uint64(hi), Updates: ups}
	s.busy = true
	what := fmt.Sprintf("append view %s to collection %s [%d, %d)", f.export, s.collection, lo, hi)
	a.call(ctx, what, req, func(ctx actor.Context, res any, err error) {
		s.busy = false
		if a.flows[f.export] != f {
			return // dropped or rebuilt meanwhile; its successor learns the upper anew
		}
		var cur *messages.Frontier
		err = refused(what, res, err)
		if err == nil {
			r, ok := res.(*messages.StorageAppendResponse)
			if !ok {
				err = fmt.Errorf("%w: %s: unexpected answer %T", ErrStorage, what, res)
			} else {
				err, cur = storageErr(ErrStorage, what, r.GetError()), r.GetCurrentUpper()
			}
		}
		switch t, ok := frontierTime(cur); {
		case err == nil && ok:
			s.upper = t
			a.metrics.sinkAppends.WithLabelValues("appended").Inc()
			a.reportFrontier(ctx, f)
		case errors.Is(err, messages.ErrRegression) && ok:
			// Another replica appended this range first: move on from
			// where the collection is.
			s.upper = t
			a.metrics.sinkAppends.WithLabelValues("lost_race").Inc()
			a.reportFrontier(ctx, f)
		default:
			a.sinkFailed(f, what, err)
			return
		}
		a.releasePersistPeeks(ctx)
		a.advanceSink(ctx, f)
	})
}

// learnUpper asks storage for the collection's upper.
func (a *runtimeActor) learnUpper(ctx actor.Context, f *flowState) {
	s := f.mv
	s.busy = true
	what := fmt.Sprintf("upper of collection %s (view %s)", s.collection, f.export)
	a.call(ctx, what, &messages.StorageFrontiers{Tables: []*messages.GlobalId{messages.FromGlobalId(s.collection)}}, func(ctx actor.Context, res any, err error) {
		s.busy = false
		if a.flows[f.export] != f {
			return
		}
		var t timely.Timestamp
		if err = refused(what, res, err); err == nil {
			t, err = collectionUpper(what, s.collection, res)
		}
		if err != nil {
			a.sinkFailed(f, what, err)
			return
		}
		s.upper, s.known = t, true
		a.reportFrontier(ctx, f)
		a.advanceSink(ctx, f)
	})
}

// refused turns an UnknownMessageReply (storage, or the remote edge of its
// node, does not take the request from here) into its coded error.
func refused(what string, res any, err error) error {
	if u, ok := res.(*messages.UnknownMessageReply); ok && err == nil {
		return storageErr(ErrStorage, what, u.GetError())
	}
	return err
}

// collectionUpper reads one collection's upper from a frontiers answer.
func collectionUpper(what string, id timely.GlobalId, res any) (timely.Timestamp, error) {
	fr, ok := res.(*messages.StorageFrontiersResponse)
	if !ok {
		return 0, fmt.Errorf("%w: %s: unexpected answer %T", ErrStorage, what, res)
	}
	if err := storageErr(ErrStorage, what, fr.GetError()); err != nil {
		return 0, err
	}
	for _, tf := range fr.GetTables() {
		if got, err := tf.GetTable().ToTimely(); err == nil && got == id {
			if t, ok := frontierTime(tf.GetUpper()); ok {
				return t, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: %s: no open upper in the answer", ErrStorage, what)
}

// sinkFailed handles a sink's failed request. A collection storage does
// not know (or dropped), or a request storage refuses from here, turns
// the sink off; anything else (a timeout, a
// restarting storage) may have appended or not, so the sink learns the
// upper again at its next chance (the next checkpoint or CDC progress).
func (a *runtimeActor) sinkFailed(f *flowState, what string, err error) {
	s := f.mv
	s.known = false
	a.metrics.sinkAppends.WithLabelValues("failed").Inc()
	if errors.Is(err, messages.ErrNotFound) || errors.Is(err, messages.ErrDropped) || errors.Is(err, messages.ErrInvalidArgument) ||
		errors.Is(err, messages.ErrUnknownMessage) || errors.Is(err, messages.ErrMalformed) {
		s.off = true
		a.cfg.Logger.Warn("materialized view sink stopped: its storage collection cannot be written", "view", f.export, "collection", s.collection, "err", err)
		return
	}
	a.cfg.Logger.Warn("materialized view sink request failed; retrying", "op", what, "err", err)
}

// sinkUpper returns the upper of collection id as a sink of this runtime
// knows it.
func (a *runtimeActor) sinkUpper(id timely.GlobalId) (timely.Timestamp, bool) {
	for _, f := range a.flows {
		if f.mv != nil && f.mv.collection == id && f.mv.known {
			return f.mv.upper, true
		}
	}
	return 0, false
}
