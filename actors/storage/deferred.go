package storage

import (
	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
)

// deferredRequest is a request that waits for I/O in flight
// (group_commit.go, handle_reads.go): a table change, and every request
// that arrived behind it, so that requests still take effect in arrival
// order.
type deferredRequest struct {
	sender *actor.PID
	msg    any
}

// isRequest reports whether m is a request of the storage protocol (or a
// Terminated, which releases holds) that takes effect in arrival order.
// StorageFrontiers is not among them: it reads only the actor's state and
// is answered at once, even while requests wait.
func isRequest(m any) bool {
	switch m.(type) {
	case *messages.StorageWrite, *messages.StorageCreateTable, *messages.StorageDropTable,
		*messages.StorageCreateCollection, *messages.StorageAppend,
		*messages.StorageSnapshot, *messages.StorageReadRange,
		*messages.StorageSubscribe, *messages.StorageUnsubscribe,
		*messages.StorageAcquireReadHold, *messages.StorageDowngradeReadHold, *messages.StorageReleaseReadHold,
		*messages.StorageChangeReadHolds, *messages.StorageListReadHolds, *actor.Terminated:
		return true
	}
	return false
}

// deferNow puts the current request first among the deferred ones (it is
// the oldest: the ones already deferred arrived after it, or it was just
// taken from their head).
func (a *storageActor) deferNow(ctx actor.Context) {
	r := deferredRequest{sender: ctx.Sender(), msg: ctx.Message()}
	a.deferred = append([]deferredRequest{r}, a.deferred...)
	a.redeferred = true
}

// drain handles the deferred requests in arrival order until one has to
// wait again.
func (a *storageActor) drain(ctx actor.Context) {
	for len(a.deferred) > 0 {
		r := a.deferred[0]
		a.deferred = a.deferred[1:]
		a.redeferred = false
		a.handleRequest(replayed{Context: ctx, sender: r.sender, msg: r.msg})
		if a.redeferred {
			return
		}
	}
}

// failDeferred answers every deferred request with err (the actor is
// stopping or restarting); nothing of them was done.
func (a *storageActor) failDeferred(ctx actor.Context, err error) {
	w := messages.ErrorToWire(err)
	for _, r := range a.deferred {
		if resp := failedResponse(r.msg, w); resp != nil {
			a.reply(ctx, r.sender, resp)
		}
	}
	a.deferred = nil
}

// failedResponse is the response to request m that carries error w (nil
// for a message that expects none).
func failedResponse(m any, w *messages.Error) proto.Message {
	switch m := m.(type) {
	case *messages.StorageWrite:
		return &messages.StorageWriteResponse{Error: w}
	case *messages.StorageCreateTable:
		return &messages.StorageCreateTableResponse{Table: m.GetTable(), Error: w}
	case *messages.StorageDropTable:
		return &messages.StorageDropTableResponse{Table: m.GetTable(), Error: w}
	case *messages.StorageCreateCollection:
		return &messages.StorageCreateCollectionResponse{Collection: m.GetCollection(), Error: w}
	case *messages.StorageAppend:
		return &messages.StorageAppendResponse{Collection: m.GetCollection(), Error: w}
	case *messages.StorageSnapshot:
		return &messages.StorageSnapshotResponse{Error: w}
	case *messages.StorageReadRange:
		return &messages.StorageReadRangeResponse{Lo: m.GetLo(), Error: w}
	case *messages.StorageSubscribe:
		return &messages.StorageSubscribeResponse{SubscriptionId: m.GetSubscriptionId(), Error: w}
	case *messages.StorageUnsubscribe:
		return &messages.StorageUnsubscribeResponse{SubscriptionId: m.GetSubscriptionId(), Error: w}
	case *messages.StorageAcquireReadHold:
		return &messages.StorageReadHoldResponse{HoldId: m.GetHoldId(), Error: w}
	case *messages.StorageDowngradeReadHold:
		return &messages.StorageReadHoldResponse{HoldId: m.GetHoldId(), Error: w}
	case *messages.StorageReleaseReadHold:
		return &messages.StorageReadHoldResponse{HoldId: m.GetHoldId(), Error: w}
	case *messages.StorageChangeReadHolds:
		return &messages.StorageChangeReadHoldsResponse{Error: w}
	case *messages.StorageListReadHolds:
		return &messages.StorageListReadHoldsResponse{Error: w}
	}
	return nil
}

// replayed is the context a deferred request is handled in: the actor's
// context, with the request's own sender and message.
type replayed struct {
	actor.Context
	sender *actor.PID
	msg    any
}

// Sender returns the deferred request's sender.
func (r replayed) Sender() *actor.PID { return r.sender }

// Message returns the deferred request.
func (r replayed) Message() any { return r.msg }

// Respond answers the deferred request's sender.
func (r replayed) Respond(m any) {
	if r.sender != nil {
		r.Context.Send(r.sender, m)
	}
}
