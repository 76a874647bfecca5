package storage

import (
	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func (a *storageActor) holdResponse(id string, err error) *messages.StorageReadHoldResponse {
	resp := &messages.StorageReadHoldResponse{HoldId: id, Error: messages.ErrorToWire(err)}
	if at, ok := a.state.Hold(id); ok {
		resp.At = proto.Uint64(uint64(at))
	}
	return resp
}

func (a *storageActor) handleAcquireHold(ctx actor.Context, m *messages.StorageAcquireReadHold) {
	a.respond(ctx, a.acquireHold(ctx, m))
}

func (a *storageActor) handleDowngradeHold(ctx actor.Context, m *messages.StorageDowngradeReadHold) {
	resp, moved := a.downgradeHold(m)
	a.respond(ctx, resp)
	if moved {
		a.compact(ctx)
	}
}

func (a *storageActor) handleReleaseHold(ctx actor.Context, m *messages.StorageReleaseReadHold) {
	resp, released := a.releaseHold(m)
	a.respond(ctx, resp)
	if released {
		a.compact(ctx)
	}
}

// handleChangeHolds applies each change as its own request would, in
// order, and compacts once after all of them when one moved or released
// a hold.
func (a *storageActor) handleChangeHolds(ctx actor.Context, m *messages.StorageChangeReadHolds) {
	resp := &messages.StorageChangeReadHoldsResponse{Results: make([]*messages.StorageReadHoldResponse, 0, len(m.GetChanges()))}
	changed := false
	for i, c := range m.GetChanges() {
		var r *messages.StorageReadHoldResponse
		var ok bool
		switch {
		case c.GetAcquire() != nil:
			r = a.acquireHold(ctx, c.GetAcquire())
		case c.GetDowngrade() != nil:
			r, ok = a.downgradeHold(c.GetDowngrade())
		case c.GetRelease() != nil:
			r, ok = a.releaseHold(c.GetRelease())
		default:
			r = &messages.StorageReadHoldResponse{Error: messages.ErrorToWire(errorf(ErrMalformed, "read-hold change %d of %d names no acquire, downgrade or release", i+1, len(m.GetChanges())))}
		}
		changed = changed || ok
		resp.Results = append(resp.Results, r)
	}
	a.respond(ctx, resp)
	if changed {
		a.compact(ctx)
	}
}

// acquireHold takes the hold m asks for, owned by the sender.
func (a *storageActor) acquireHold(ctx actor.Context, m *messages.StorageAcquireReadHold) *messages.StorageReadHoldResponse {
	ids, err := decodeIds("acquire read hold", m.GetTables())
	at := timely.Timestamp(m.GetAt())
	if err == nil && m.GetAtLeast() {
		// Hold what is still readable: no later than the latest since.
		var since timely.Timestamp
		if since, err = a.state.LatestSince(ids); err == nil {
			at = max(at, since)
		}
	}
	if err == nil {
		err = a.state.AcquireHold(m.HoldId, ctx.Sender(), ids, at)
	}
	if err == nil {
		a.watch(ctx, ctx.Sender())
	}
	return a.holdResponse(m.GetHoldId(), err)
}

// downgradeHold moves the hold m names; moved reports whether it did.
func (a *storageActor) downgradeHold(m *messages.StorageDowngradeReadHold) (resp *messages.StorageReadHoldResponse, moved bool) {
	err := a.state.DowngradeHold(m.GetHoldId(), timely.Timestamp(m.GetAt()))
	return a.holdResponse(m.GetHoldId(), err), err == nil
}

// releaseHold drops the hold m names; released reports whether it did.
func (a *storageActor) releaseHold(m *messages.StorageReleaseReadHold) (resp *messages.StorageReadHoldResponse, released bool) {
	err := a.state.ReleaseHold(m.GetHoldId())
	return a.holdResponse(m.GetHoldId(), err), err == nil
}

// handleListHolds answers the read holds whose id starts with the prefix.
// It reads only the actor's state but is a request like the other hold
// requests, so a list sent after a release sees it.
func (a *storageActor) handleListHolds(ctx actor.Context, m *messages.StorageListReadHolds) {
	resp := &messages.StorageListReadHoldsResponse{}
	for _, h := range a.state.ListHolds(m.GetPrefix()) {
		info := &messages.StorageReadHoldInfo{HoldId: h.Id, At: uint64(h.At), Subscription: h.Subscription}
		if h.Owner != nil {
			info.Owner = h.Owner.GetAddress() + "/" + h.Owner.GetId()
		}
		for _, id := range h.Tables {
			info.Tables = append(info.Tables, messages.FromGlobalId(id))
		}
		resp.Holds = append(resp.Holds, info)
	}
	a.respond(ctx, resp)
}
