package environment

import (
	"fmt"
	"sort"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// A subscribe is a dataflow with a subscribe sink (a transient id) on the
// collection's cluster (the default cluster for a table or a view),
// installed with instance.Subscribe so that its batches come to the
// environment:
//
//	ClientSubscribe -> as_of (given, or storage's upper - 1)
//	  -> Subscribe (instance) -> ClientSubscribeResponse
//	  -> ComputeSubscribeResponse batches -> ClientSubscribeBatch (seq 1, 2, ...)
//
// Flow control is a window: at most window batches go out beyond the
// client's last ClientSubscribeAck. What arrives meanwhile is merged into
// one pending batch; past MaxSubscribeBacklog updates the subscribe ends
// with an error, so a slow client costs a bounded amount of memory. The
// subscribe ends (its dataflow dropped) on unsubscribe, the session's end,
// the instance's error or drop batch, or the backlog limit; its last batch
// has finished set.

// Defaults of subscribes.
const (
	DefaultSubscribeWindow = 16
	MaxSubscribeWindow     = 1024
	// DefaultMaxSubscribeBacklog bounds the updates a subscribe keeps for
	// a client that does not acknowledge.
	DefaultMaxSubscribeBacklog = 100_000
)

// subscription is one client subscribe.
type subscription struct {
	id     uint64
	conn   timely.ConnectionId
	client *actor.PID
	name   string
	inst   *actor.PID
	sink   timely.GlobalId
	// reads are the object subscribed and the tables under it: a drop of
	// one ends the subscribe.
	reads   []timely.GlobalId
	window  uint64
	sent    uint64 // seq of the last batch sent
	acked   uint64
	pending *messages.ClientSubscribeBatch // not yet sent
	// backlog counts the pending batch's updates.
	backlog int
	// started: the ClientSubscribeResponse went out; batches may follow.
	started bool
	// ended: the last batch is pending or sent; the dataflow is dropped.
	ended bool
}

func (a *envActor) handleSubscribe(ctx actor.Context, m *messages.ClientSubscribe, sender *actor.PID) {
	s, err := a.session(m.GetConn())
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	name := m.GetCollection()
	if !a.computeEnabled() {
		a.fail(ctx, m, sender, fmt.Errorf("subscribe %q: %w", name, ErrNeedsCompute))
		return
	}
	o, err := a.core.Resolve(name)
	if err != nil {
		a.fail(ctx, m, sender, fmt.Errorf("subscribe: %w", err))
		return
	}
	var plan *messages.Plan
	clusterId := timely.ClusterId{}
	switch o.typ {
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE:
		plan = &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(o.id)}}}
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX:
		plan = &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(o.on)}}}
		clusterId = o.cluster
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW:
		plan, clusterId = o.plan, o.cluster
	default:
		plan = o.plan
	}
	if clusterId == (timely.ClusterId{}) {
		t, err := a.peekTarget(&object{name: o.name, typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW})
		if err != nil {
			a.fail(ctx, m, sender, fmt.Errorf("subscribe %q: %w", name, err))
			return
		}
		clusterId = t.cluster
	}
	inst, ok := a.instances[clusterId]
	if !ok {
		a.fail(ctx, m, sender, errorf(messages.ErrUnavailable, "subscribe %q: its cluster %s has no running instance", name, clusterId))
		return
	}
	window := uint64(m.GetWindow())
	if window == 0 {
		window = DefaultSubscribeWindow
	}
	window = min(window, MaxSubscribeWindow)
	start := func(asOf timely.Timestamp) {
		if _, live := a.core.sessions[s.conn]; !live {
			return
		}
		a.transientSeq++
		sink := timely.TransientId(a.transientSeq)
		desc, tables, err := a.core.describePlan(sink, "subscribe "+name, plan, false, nil, asOf)
		if err != nil {
			a.fail(ctx, m, sender, fmt.Errorf("subscribe %q: %w", name, err))
			return
		}
		desc.IndexExports = nil
		desc.SinkExports = []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(sink), From: messages.FromGlobalId(sink),
			Connection: &messages.ComputeSinkExport_Subscribe{Subscribe: &messages.ComputeSubscribeSink{}}}}
		a.nextSubscription++
		sub := &subscription{id: a.nextSubscription, conn: s.conn, client: sender, name: name, inst: inst, sink: sink, window: window,
			reads: append([]timely.GlobalId{o.id}, tables...)}
		a.subscriptions[sub.id] = sub
		a.bySink[sink] = sub
		a.instanceCall(ctx, inst, instance.Subscribe{Dataflow: desc, Client: ctx.Self()}, func(err error) {
			if err != nil {
				delete(a.subscriptions, sub.id)
				delete(a.bySink, sink)
				if errorsIsCompacted(err) {
					err = errorf(ErrCompacted, "subscribe %q as of %d: that history has been compacted (%v)", name, asOf, err)
				}
				a.fail(ctx, m, sender, fmt.Errorf("subscribe %q: %w", name, err))
				return
			}
			a.reply(ctx, sender, "subscribe", &messages.ClientSubscribeResponse{Subscription: sub.id,
				Schema: dataflow.SchemaToWire(o.schema), AsOf: uint64(asOf)}, nil)
			sub.started = true
			a.flushSubscription(ctx, sub)
		})
	}
	if m.AsOf != nil {
		start(timely.Timestamp(m.GetAsOf()))
		return
	}
	a.request(ctx, a.cfg.Storage, &messages.StorageFrontiers{}, func(res any, err error) {
		r, ok := res.(*messages.StorageFrontiersResponse)
		if err == nil && !ok {
			err = errorf(ErrInternal, "storage answered %T", res)
		}
		if err == nil {
			err = storageError(r.GetError())
		}
		if err != nil {
			a.fail(ctx, m, sender, fmt.Errorf("subscribe %q: read storage's upper: %w", name, err))
			return
		}
		var ts timely.Timestamp
		if f, ferr := r.GetUpper().ToTimely(); ferr == nil {
			if u, ok := f.Time(); ok && u > 0 {
				ts = u - 1
			}
		}
		start(ts)
	})
}

func errorsIsCompacted(err error) bool {
	return messages.CodeOf(err) == messages.ErrorCode_ERROR_CODE_COMPACTED
}

// handleComputeSubscribe takes a batch of a subscribe's dataflow.
func (a *envActor) handleComputeSubscribe(ctx actor.Context, m *messages.ComputeSubscribeResponse) {
	id, err := m.GetId().ToTimely()
	if err != nil {
		return
	}
	sub, ok := a.bySink[id]
	if !ok || sub.ended {
		return
	}
	if d := m.GetDroppedAt(); d != nil {
		a.endSubscription(ctx, sub, errorf(ErrCanceled, "subscribe %q: its dataflow was dropped", sub.name))
		return
	}
	b := m.GetBatch()
	if b == nil {
		return
	}
	if e := b.GetError(); e != nil {
		a.endSubscription(ctx, sub, fmt.Errorf("subscribe %q: %w", sub.name, messages.ErrorFromWire(e)))
		return
	}
	if sub.pending == nil {
		sub.pending = &messages.ClientSubscribeBatch{Subscription: sub.id}
	}
	for _, u := range b.GetUpdates().GetUpdates() {
		sub.pending.Updates = append(sub.pending.Updates, &messages.ClientUpdate{Row: u.GetRow(), Time: u.GetTime(), Diff: u.GetDiff()})
	}
	sub.backlog += len(b.GetUpdates().GetUpdates())
	upper, err := b.GetUpper().ToTimely()
	if err == nil {
		if t, ok := upper.Time(); ok {
			sub.pending.Upper = uint64(t)
		} else {
			// The empty upper: the collection will never change again.
			sub.pending.Finished = true
			sub.ended = true
			delete(a.bySink, sub.sink)
		}
	}
	if sub.backlog > a.cfg.MaxSubscribeBacklog {
		a.endSubscription(ctx, sub, errorf(ErrTooLarge, "subscribe %q: the client fell behind by more than %d updates; subscribe again", sub.name, a.cfg.MaxSubscribeBacklog))
		return
	}
	a.flushSubscription(ctx, sub)
}

// flushSubscription sends the pending batch when the window allows.
func (a *envActor) flushSubscription(ctx actor.Context, sub *subscription) {
	if sub.pending == nil || sub.sent-sub.acked >= sub.window {
		return
	}
	if !sub.started {
		return
	}
	sub.sent++
	b := sub.pending
	b.Seq = sub.sent
	sub.pending, sub.backlog = nil, 0
	ctx.Send(sub.client, b)
	if b.GetFinished() {
		delete(a.subscriptions, sub.id)
		delete(a.bySink, sub.sink)
	}
}

// endSubscription drops a subscribe's dataflow and queues its last batch:
// finished, with err when it failed. An error replaces what was pending
// (the client must subscribe again anyway).
func (a *envActor) endSubscription(ctx actor.Context, sub *subscription, err error) {
	if !sub.ended {
		sub.ended = true
		delete(a.bySink, sub.sink)
		ctx.Send(sub.inst, instance.DropCollections{Ids: []timely.GlobalId{sub.sink}})
	}
	if err != nil {
		sub.pending = &messages.ClientSubscribeBatch{Subscription: sub.id, Error: messages.ErrorToWire(err)}
		sub.backlog = 0
		// An error goes out whatever the window.
		sub.acked = sub.sent
	} else if sub.pending == nil {
		sub.pending = &messages.ClientSubscribeBatch{Subscription: sub.id}
	}
	sub.pending.Finished = true
	a.flushSubscription(ctx, sub)
}

// endSessionSubscriptions ends the subscribes of a session that ended;
// nothing is sent to its client.
func (a *envActor) endSessionSubscriptions(ctx actor.Context, conn timely.ConnectionId) {
	for id, sub := range a.subscriptions {
		if sub.conn != conn {
			continue
		}
		if !sub.ended {
			ctx.Send(sub.inst, instance.DropCollections{Ids: []timely.GlobalId{sub.sink}})
		}
		delete(a.subscriptions, id)
		delete(a.bySink, sub.sink)
	}
}

func (a *envActor) handleSubscribeAck(ctx actor.Context, m *messages.ClientSubscribeAck) {
	sub, ok := a.subscriptions[m.GetSubscription()]
	if !ok || sub.conn != timely.ConnectionId(m.GetConn().GetValue()) {
		return
	}
	if m.GetSeq() > sub.acked && m.GetSeq() <= sub.sent {
		sub.acked = m.GetSeq()
	}
	a.flushSubscription(ctx, sub)
}

func (a *envActor) handleUnsubscribe(ctx actor.Context, m *messages.ClientUnsubscribe, sender *actor.PID) {
	s, err := a.session(m.GetConn())
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	sub, ok := a.subscriptions[m.GetSubscription()]
	if !ok || sub.conn != s.conn {
		a.fail(ctx, m, sender, errorf(ErrUnknownObject, "unsubscribe: subscription %d of this session does not exist (it may have ended)", m.GetSubscription()))
		return
	}
	a.endSubscription(ctx, sub, nil)
	// The last batch goes out whatever the window.
	if sub.pending != nil {
		sub.acked = sub.sent
		a.flushSubscription(ctx, sub)
	}
	a.reply(ctx, sender, "unsubscribe", &messages.ClientUnsubscribeResponse{}, nil)
}

// sortedSubscriptions returns the subscriptions by id.
func (a *envActor) sortedSubscriptions() []*subscription {
	out := make([]*subscription, 0, len(a.subscriptions))
	for _, s := range a.subscriptions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
