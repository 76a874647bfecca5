package runtime

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// subscribe is a subscribe sink's progress. Its flow is materialized: the
// coordinator commits its output to the runtime's output shard with its
// checkpoint, and each time the checkpoint advances the runtime reads the
// newly committed output and sends it as one batch [lower, upper). The
// next batch starts where the last one ended, so no update is sent twice;
// updates before the as_of are reported at the as_of.
//
// A dataflow's until bounds its subscribe: no batch carries an update at
// or after it, and the batch that reaches it has the empty upper, which
// says the subscribe is complete (Materialize's SUBSCRIBE ... UP TO): the
// runtime sends nothing more for it.
type subscribe struct {
	asOf timely.Timestamp
	// lower is the next batch's lower (the as_of until the first batch);
	// sent says a batch went out; done that the batch reaching the until
	// went out.
	lower timely.Timestamp
	sent  bool
	done  bool
}

// subscribeBatch is the plan of one batch (pure): its bounds, and the
// range of the view's committed output it carries.
type subscribeBatch struct {
	// Lower and Upper bound the batch; Upper is the empty frontier for
	// the batch that completes the subscribe at its until.
	Lower, Upper timely.Frontier
	// From and To: the committed output with From <= time < To goes in,
	// each update at max(its time, Lower) (the first batch folds what
	// came before the as_of into it).
	From, To timely.Timestamp
}

// next plans the batch to send now that the flow's committed output
// reaches checkpoint, bounded by until; ok is false when there is nothing
// to send (no progress, or the subscribe is complete). It changes nothing:
// record records a batch that went out.
func (s *subscribe) next(checkpoint timely.Timestamp, until timely.Frontier) (b subscribeBatch, ok bool) {
	if s.done {
		return b, false
	}
	lower := max(s.lower, s.asOf)
	upper, complete := checkpoint, false
	if u, bounded := until.Time(); bounded && upper >= u {
		upper, complete = u, true
	}
	if upper <= lower && !complete {
		return b, false
	}
	b = subscribeBatch{Lower: timely.At(lower), Upper: timely.At(upper), From: lower, To: upper}
	if !s.sent {
		b.From = 0
	}
	if complete {
		b.Upper = timely.Closed()
	}
	return b, true
}

// record records that batch b went out.
func (s *subscribe) record(b subscribeBatch) {
	lower, _ := b.Lower.Time()
	s.lower, s.sent = max(b.To, lower), true
	s.done = b.Upper.IsEmpty()
}

// wire builds b's message from the output read for it (or the read's
// error, which the batch carries instead).
func (b subscribeBatch) wire(export timely.GlobalId, us []dataflow.Update, err error) *messages.ComputeSubscribeBatch {
	batch := &messages.ComputeSubscribeBatch{Lower: messages.FromFrontier(b.Lower), Upper: messages.FromFrontier(b.Upper)}
	if err != nil {
		batch.Result = &messages.ComputeSubscribeBatch_Error{Error: messages.ErrorToWire(messages.WithObject(err, export.String()))}
		return batch
	}
	lower, _ := b.Lower.Time()
	out := &messages.ComputeUpdates{}
	for _, u := range us {
		out.Updates = append(out.Updates, &messages.ComputeUpdate{Row: rowToWire(u.Row), Time: uint64(max(u.Time, lower)), Diff: u.Diff})
	}
	batch.Result = &messages.ComputeSubscribeBatch_Updates{Updates: out}
	return batch
}

// droppedAt is where a dropped subscribe ends: nothing is sent at or after
// its last upper.
func (s *subscribe) droppedAt() timely.Timestamp { return max(s.lower, s.asOf) }

// advanceSubscribe sends the batch of a subscribe flow's newly committed
// output, as its plan (next) says. The read is served from the output
// store's in-memory copy of the view (loaded from the local output shard
// on the first read, once, within the storage deadline).
func (a *runtimeActor) advanceSubscribe(ctx actor.Context, f *flowState) {
	if f.sub == nil || !f.life.Installed() {
		return
	}
	b, ok := f.sub.next(f.checkpoint, f.df.Until)
	if !ok {
		return
	}
	rctx, cancel := context.WithTimeout(context.Background(), a.cfg.StorageTimeout)
	us, err := a.store.ReadView(rctx, f.export, b.From, b.To)
	cancel()
	f.sub.record(b)
	a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_SubscribeResponse{SubscribeResponse: &messages.ComputeSubscribeResponse{
		Id: messages.FromGlobalId(f.export), Response: &messages.ComputeSubscribeResponse_Batch{Batch: b.wire(f.export, us, err)},
	}}})
	a.reportFrontier(ctx, f)
}

// endSubscribe says a dropped subscribe sends nothing at or after its
// last upper.
func (a *runtimeActor) endSubscribe(ctx actor.Context, f *flowState) {
	a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_SubscribeResponse{SubscribeResponse: &messages.ComputeSubscribeResponse{
		Id: messages.FromGlobalId(f.export), Response: &messages.ComputeSubscribeResponse_DroppedAt{DroppedAt: messages.FromFrontier(timely.At(f.sub.droppedAt()))},
	}}})
	f.sub = nil
}
