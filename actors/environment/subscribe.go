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
	upper, err := b.GetUpper().ToTimely()
	if err != nil {
		a.endSubscription(ctx, sub, errorf(ErrInternal, "subscribe %q: a batch with a bad upper: %v", sub.name, err))
		return
	}
	if !sub.offer(b.GetUpdates().GetUpdates(), upper, a.cfg.MaxSubscribeBacklog) {
		a.endSubscription(ctx, sub, errorf(ErrTooLarge, "subscribe %q: the client fell behind by more than %d updates; subscribe again", sub.name, a.cfg.MaxSubscribeBacklog))
		return
	}
	if upper.IsEmpty() {
		// The collection will never change again: the last batch is
		// queued; the dataflow goes.
		a.endSubscription(ctx, sub, nil)
		return
	}
	a.flushSubscription(ctx, sub)
}

// flushSubscription sends what the window allows.
func (a *envActor) flushSubscription(ctx actor.Context, sub *subscription) {
	b := sub.take()
	if b == nil {
		return
	}
	ctx.Send(sub.client, b)
	if b.GetFinished() {
		delete(a.subscriptions, sub.id)
		delete(a.bySink, sub.sink)
	}
}

// endSubscription drops a subscribe's dataflow and queues its last batch
// (finish), then sends what it can.
func (a *envActor) endSubscription(ctx actor.Context, sub *subscription, err error) {
	if !sub.ended {
		sub.ended = true
		delete(a.bySink, sub.sink)
		ctx.Send(sub.inst, instance.DropCollections{Ids: []timely.GlobalId{sub.sink}})
	}
	sub.finish(err)
	a.flushSubscription(ctx, sub)
}

// The flow control of one subscribe, without I/O:
//
//	offer (a batch of the dataflow) -> merged into the one pending batch
//	take  -> the pending batch, numbered, when started and fewer than
//	         window batches are unacknowledged
//	ack   -> frees the window up to seq
//	finish -> the pending batch becomes the last one (an error replaces
//	          it and goes out whatever the window)

// offer merges the dataflow's updates below upper into the pending batch.
// It reports false when the pending batch then holds more than
// maxBacklog updates.
func (s *subscription) offer(updates []*messages.ComputeUpdate, upper timely.Frontier, maxBacklog int) bool {
	if s.pending == nil {
		s.pending = &messages.ClientSubscribeBatch{Subscription: s.id}
	}
	for _, u := range updates {
		s.pending.Updates = append(s.pending.Updates, &messages.ClientUpdate{Row: u.GetRow(), Time: u.GetTime(), Diff: u.GetDiff()})
	}
	s.backlog += len(updates)
	if t, ok := upper.Time(); ok {
		s.pending.Upper = uint64(t)
	}
	return s.backlog <= maxBacklog
}

// finish makes the pending batch the last one; a non-nil err replaces it
// and is sent whatever the window.
func (s *subscription) finish(err error) {
	if err != nil {
		s.pending = &messages.ClientSubscribeBatch{Subscription: s.id, Error: messages.ErrorToWire(err)}
		s.backlog = 0
		s.acked = s.sent
	} else if s.pending == nil {
		s.pending = &messages.ClientSubscribeBatch{Subscription: s.id}
	}
	s.pending.Finished = true
}

// ack records that the client took every batch up to seq.
func (s *subscription) ack(seq uint64) {
	if seq > s.acked && seq <= s.sent {
		s.acked = seq
	}
}

// take returns the next batch to send, numbered, or nil when there is
// none or the window is full.
func (s *subscription) take() *messages.ClientSubscribeBatch {
	if !s.started || s.pending == nil || s.sent-s.acked >= s.window {
		return nil
	}
	s.sent++
	b := s.pending
	b.Seq = s.sent
	s.pending, s.backlog = nil, 0
	return b
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
	sub.ack(m.GetSeq())
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
	// The last batch goes out whatever the window.
	sub.acked = sub.sent
	a.endSubscription(ctx, sub, nil)
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
