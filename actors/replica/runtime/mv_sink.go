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
//
// MVSink (sink.go) decides every request; this file carries them out: it
// reads the output, builds and sends the storage requests, and turns each
// answer (or the call's timeout) back into an event for the sink.

// advanceSinks nudges every sink (after CDC progress: a sink that failed
// transiently tries again).
func (a *runtimeActor) advanceSinks(ctx actor.Context) {
	for _, f := range a.flows {
		if f.mv != nil {
			a.stepSink(ctx, f, SinkKick{})
		}
	}
}

// stepSink applies ev to f's sink (sink.go) and carries out its effects.
// An event the sink does not take is stale (an answer for a sink dropped
// or rebuilt meanwhile): ignored.
func (a *runtimeActor) stepSink(ctx actor.Context, f *flowState, ev SinkEvent) {
	s := f.mv
	if s == nil || a.flows[f.export] != f {
		return
	}
	fx, err := s.Step(ev)
	if err != nil {
		a.cfg.Logger.Debug("sink event ignored", "view", f.export, "err", err)
		return
	}
	if fx.Outcome != "" {
		a.metrics.sinkAppends.WithLabelValues(fx.Outcome).Inc()
	}
	if fx.Warn != "" {
		a.cfg.Logger.Warn(fx.Warn, "view", f.export, "collection", s.Collection, "err", fx.Err)
	}
	if fx.Report {
		a.reportFrontier(ctx, f)
		a.releasePersistPeeks(ctx)
		a.allowOutputCompaction(ctx) // the sink's next append starts later
	}
	switch {
	case fx.Learn != 0:
		a.learnUpper(ctx, f, fx.Learn)
	case fx.Snapshot != nil:
		a.snapshotCollection(ctx, f, *fx.Snapshot)
	case fx.Append != nil:
		a.sendAppend(ctx, f, *fx.Append)
	}
}

// readView reads the view's committed output in [from, to) from the output
// store, within the storage deadline. Served from the output store's
// in-memory copy of the view after its first read (like a subscribe's
// batches).
func (a *runtimeActor) readView(f *flowState, from, to timely.Timestamp) ([]dataflow.Update, error) {
	rctx, cancel := context.WithTimeout(context.Background(), a.cfg.StorageTimeout)
	defer cancel()
	return a.store.ReadView(rctx, f.export, from, to)
}

// snapshotCollection reads the collection's contents a correction takes
// back (MVSink: the collection is behind the flow's as_of).
func (a *runtimeActor) snapshotCollection(ctx actor.Context, f *flowState, r SinkSnapshot) {
	s := f.mv
	at := uint64(r.At)
	what := fmt.Sprintf("snapshot of collection %s at %d (view %s)", s.Collection, at, f.export)
	a.call(ctx, what, &messages.StorageSnapshot{Tables: []*messages.GlobalId{messages.FromGlobalId(s.Collection)}, AsOf: &at}, func(ctx actor.Context, res any, err error) {
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
			a.stepSink(ctx, f, SinkFailed{Seq: r.Seq, Err: err})
			return
		}
		a.stepSink(ctx, f, SinkSnapshotTaken{Seq: r.Seq, Have: have})
	})
}

// sendAppend reads the output an append covers, sends the
// compare-and-append and hands its answer to the sink. A correction
// (r.Correct) puts the view below r.Hi at the as_of, less what the
// collection has: the collection is exact from the as_of on, and keeps its
// last contents in [r.Lo, as_of).
func (a *runtimeActor) sendAppend(ctx actor.Context, f *flowState, r SinkAppend) {
	s := f.mv
	from := r.Lo
	if r.Correct {
		from = 0
	}
	us, err := a.readView(f, from, r.Hi)
	if err != nil {
		a.stepSink(ctx, f, SinkUnread{Seq: r.Seq, Err: err})
		return
	}
	ups := make([]*messages.StorageUpdate, 0, len(us)+len(r.Have))
	for _, u := range us {
		t := u.Time
		if r.Correct {
			t = max(t, r.AsOf)
		}
		ups = append(ups, &messages.StorageUpdate{Row: rowToWire(u.Row), Time: uint64(t), Diff: u.Diff})
	}
	for _, rd := range r.Have {
		ups = append(ups, &messages.StorageUpdate{Row: rd.GetRow(), Time: uint64(r.AsOf), Diff: -rd.GetDiff()})
	}
	req := &messages.StorageAppend{Collection: messages.FromGlobalId(s.Collection), ExpectedUpper: uint64(r.Lo), NewUpper: uint64(r.Hi), Updates: ups}
	what := fmt.Sprintf("append view %s to collection %s [%d, %d)", f.export, s.Collection, r.Lo, r.Hi)
	a.call(ctx, what, req, func(ctx actor.Context, res any, err error) {
		var cur *messages.Frontier
		err = refused(what, res, err)
		if err == nil {
			r2, ok := res.(*messages.StorageAppendResponse)
			if !ok {
				err = fmt.Errorf("%w: %s: unexpected answer %T", ErrStorage, what, res)
			} else {
				err, cur = storageErr(ErrStorage, what, r2.GetError()), r2.GetCurrentUpper()
			}
		}
		switch t, ok := frontierTime(cur); {
		case err == nil && ok:
			a.stepSink(ctx, f, SinkAppended{Seq: r.Seq, Upper: t})
		case errors.Is(err, messages.ErrRegression) && ok:
			a.stepSink(ctx, f, SinkMismatch{Seq: r.Seq, Current: t})
		default:
			if err == nil {
				err = fmt.Errorf("%w: %s: no open upper in the answer", ErrStorage, what)
			}
			a.stepSink(ctx, f, SinkFailed{Seq: r.Seq, Err: err})
		}
	})
}

// learnUpper asks storage for the collection's upper.
func (a *runtimeActor) learnUpper(ctx actor.Context, f *flowState, seq uint64) {
	s := f.mv
	what := fmt.Sprintf("upper of collection %s (view %s)", s.Collection, f.export)
	a.call(ctx, what, &messages.StorageFrontiers{Tables: []*messages.GlobalId{messages.FromGlobalId(s.Collection)}}, func(ctx actor.Context, res any, err error) {
		var t timely.Timestamp
		if err = refused(what, res, err); err == nil {
			t, err = collectionUpper(what, s.Collection, res)
		}
		if err != nil {
			a.stepSink(ctx, f, SinkFailed{Seq: seq, Err: err})
			return
		}
		a.stepSink(ctx, f, SinkUpperLearned{Seq: seq, Upper: t})
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

// sinkUpper returns the upper of collection id as a sink of this runtime
// knows it.
func (a *runtimeActor) sinkUpper(id timely.GlobalId) (timely.Timestamp, bool) {
	for _, f := range a.flows {
		if f.mv != nil && f.mv.Collection == id && f.mv.Known {
			return f.mv.Upper, true
		}
	}
	return 0, false
}
