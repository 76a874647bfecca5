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
	a.respond(ctx, a.holdResponse(m.GetHoldId(), err))
}

func (a *storageActor) handleDowngradeHold(ctx actor.Context, m *messages.StorageDowngradeReadHold) {
	err := a.state.DowngradeHold(m.GetHoldId(), timely.Timestamp(m.GetAt()))
	a.respond(ctx, a.holdResponse(m.GetHoldId(), err))
	if err == nil {
		a.compact(ctx)
	}
}

func (a *storageActor) handleReleaseHold(ctx actor.Context, m *messages.StorageReleaseReadHold) {
	err := a.state.ReleaseHold(m.GetHoldId())
	a.respond(ctx, a.holdResponse(m.GetHoldId(), err))
	if err == nil {
		a.compact(ctx)
	}
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
