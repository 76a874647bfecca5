package runtime

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

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

// advanceSubscribe sends the batch of a subscribe flow's newly committed
// output. The read is served from the output store's in-memory copy of
// the view (loaded from the local output shard on the first read).
func (a *runtimeActor) advanceSubscribe(ctx actor.Context, f *flowState) {
	s := f.sub
	if s == nil || !f.installed || s.done {
		return
	}
	lower := max(s.lower, s.asOf)
	upper := f.checkpoint
	if u, ok := f.df.Until.Time(); ok && upper >= u {
		upper, s.done = u, true
	}
	if upper <= lower && !s.done {
		return
	}
	from := lower
	if !s.sent {
		from = 0
	}
	batchUpper := timely.At(upper)
	if s.done {
		batchUpper = timely.Closed()
	}
	batch := &messages.ComputeSubscribeBatch{Lower: messages.FromFrontier(timely.At(lower)), Upper: messages.FromFrontier(batchUpper)}
	// ReadView serves from the store's in-memory copy of the view after
	// its first read; that first read loads the view from the shard, once,
	// within the storage deadline.
	rctx, cancel := context.WithTimeout(context.Background(), a.cfg.StorageTimeout)
	us, err := a.store.ReadView(rctx, f.export, from, upper)
	cancel()
	if err != nil {
		batch.Result = &messages.ComputeSubscribeBatch_Error{Error: messages.ErrorToWire(messages.WithObject(err, f.export.String()))}
	} else {
		out := &messages.ComputeUpdates{}
		for _, u := range us {
			out.Updates = append(out.Updates, &messages.ComputeUpdate{Row: rowToWire(u.Row), Time: uint64(max(u.Time, lower)), Diff: u.Diff})
		}
		batch.Result = &messages.ComputeSubscribeBatch_Updates{Updates: out}
	}
	s.lower, s.sent = max(upper, lower), true
	a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_SubscribeResponse{SubscribeResponse: &messages.ComputeSubscribeResponse{
		Id: messages.FromGlobalId(f.export), Response: &messages.ComputeSubscribeResponse_Batch{Batch: batch},
	}}})
	a.reportFrontier(ctx, f)
}

// endSubscribe says a dropped subscribe sends nothing at or after its
// last upper.
func (a *runtimeActor) endSubscribe(ctx actor.Context, f *flowState) {
	at := max(f.sub.lower, f.sub.asOf)
	a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_SubscribeResponse{SubscribeResponse: &messages.ComputeSubscribeResponse{
		Id: messages.FromGlobalId(f.export), Response: &messages.ComputeSubscribeResponse_DroppedAt{DroppedAt: messages.FromFrontier(timely.At(at))},
	}}})
	f.sub = nil
}
