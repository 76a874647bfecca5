package storage

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// handleSubscribe validates a subscription, replays the versions from
// `from` up to the upper out of the shards, and then registers it, all in
// one step: no commit can fall between the replay and the first live
// batch.
func (a *storageActor) handleSubscribe(ctx actor.Context, m *messages.StorageSubscribe) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageSubscribeResponse{SubscriptionId: m.GetSubscriptionId(), Error: messages.ErrorToWire(err)})
	}
	consumer := ctx.Sender()
	if consumer == nil {
		a.cfg.Logger.Warn("subscribe without a sender: send it with Request", "subscription", m.GetSubscriptionId())
		return
	}
	ids, err := decodeIds("subscribe", m.GetTables())
	if err != nil {
		fail(err)
		return
	}
	from := timely.Timestamp(m.From)
	tables, err := a.state.CheckSubscribe(m.SubscriptionId, ids, from, m.Snapshot)
	if err != nil {
		fail(err)
		return
	}
	var replay []*messages.StorageVersion
	if m.Snapshot {
		snap := &messages.StorageVersion{Version: uint64(from)}
		for _, id := range tables {
			tc, err := snapshotTable(context.Background(), a.cfg.CallTimeout, id, a.shards.tables[id], from)
			if err != nil {
				fail(err)
				return
			}
			if len(tc.Rows) > 0 {
				snap.Tables = append(snap.Tables, tc)
			}
		}
		if len(snap.Tables) > 0 {
			replay = append(replay, snap)
		}
		from++
	}
	upper := a.state.uppersOf(tables)
	vs, err := a.replay(tables, from)
	if err != nil {
		fail(err)
		return
	}
	replay = append(replay, vs...)

	id := m.SubscriptionId
	a.respond(ctx, &messages.StorageSubscribeResponse{SubscriptionId: id, Upper: messages.FromFrontier(upper)})
	for _, v := range replay {
		ctx.Send(consumer, &messages.StorageCdcBatch{SubscriptionId: id, Batch: v})
	}
	ctx.Send(consumer, &messages.StorageCdcProgress{SubscriptionId: id, Upper: messages.FromFrontier(upper)})
	a.state.AddSubscription(id, consumer, ids, timely.Timestamp(m.From), m.HoldFollowsProgress)
	a.watch(ctx, consumer)
	a.refreshGauges()
}

// replay reads the versions of tables (or of one collection) from `from`
// up to their upper.
func (a *storageActor) replay(tables []timely.GlobalId, from timely.Timestamp) ([]*messages.StorageVersion, error) {
	ut, ok := a.state.uppersOf(tables).Time()
	if !ok || from >= ut {
		return nil, nil
	}
	starts := make([]timely.Timestamp, len(tables))
	for i := range starts {
		starts[i] = from
	}
	return readPlan(context.Background(), a.cfg.CallTimeout, RangePlan{Tables: tables, Starts: starts, CompleteTo: ut}, a.handles(tables), false)
}

func (a *storageActor) handleUnsubscribe(ctx actor.Context, m *messages.StorageUnsubscribe) {
	err := a.state.Unsubscribe(m.GetSubscriptionId())
	a.respond(ctx, &messages.StorageUnsubscribeResponse{SubscriptionId: m.GetSubscriptionId(), Error: messages.ErrorToWire(err)})
	if err == nil {
		a.compact(ctx)
	}
}
