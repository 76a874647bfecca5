package storage

import (
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// subscription is one CDC consumer: its batches go to owner. Its read hold
// has the same id.
type subscription struct {
	id     string
	owner  *actor.PID
	tables tableSet
	// from is the first version the consumer wants: earlier commits
	// (when it subscribed ahead of the upper) send only progress.
	from timely.Timestamp
	// sent is the upper of the last progress sent: the consumer has every
	// version below it.
	sent timely.Timestamp
	// follow: the read hold moves to sent.
	follow bool
	// collection: the subscription reads one collection (its only table),
	// and its progress is that collection's upper, not the tables'.
	collection bool
}

// CheckSubscribe validates a subscription request and returns the live
// tables it reads now, in id order. from must be at or after every such
// table's since; with snapshot it must also be before the upper (the
// contents at from must be complete).
func (s *State) CheckSubscribe(id string, ids []timely.GlobalId, from timely.Timestamp, snapshot bool) ([]timely.GlobalId, error) {
	if err := s.checkNewId("subscription", id); err != nil {
		return nil, err
	}
	tables, err := s.resolve(ids)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if s.tables[t].collection && len(tables) > 1 {
			// Its progress is its own upper, which tables do not share.
			return nil, onTable(t, errorf(ErrWrongKind, "subscription %q: %s is a collection: subscribe to it alone", id, t))
		}
	}
	if err := s.checkSince(tables, from); err != nil {
		return nil, err
	}
	if upper := s.uppersOf(tables); snapshot && !timely.Answerable(from, timely.Minimum(), upper) {
		return nil, onHold("subscription", id, errorf(ErrNotYetReadable, "subscription %q: snapshot at %d: the upper is %s", id, from, upper))
	}
	return tables, nil
}

// AddSubscription registers a validated subscription (CheckSubscribe) that
// the actor has brought up to date (replayed below the upper), with its
// read hold at from (or, when follow, at the upper it was brought to). ids
// empty means every table, including later ones, and no collection (for
// its changes and its hold alike).
func (s *State) AddSubscription(id string, owner *actor.PID, ids []timely.GlobalId, from timely.Timestamp, follow bool) {
	set := newTableSet(ids)
	sent, _ := s.uppersOf(ids).Time()
	coll := len(ids) == 1 && s.IsCollection(ids[0])
	s.subs[id] = &subscription{id: id, owner: owner, tables: set, from: from, sent: sent, follow: follow, collection: coll}
	s.holds[id] = &readHold{id: id, owner: owner, tables: set, at: from, subscription: true}
	s.follow(s.subs[id])
}

// follow moves a following subscription's hold to what it was sent.
func (s *State) follow(sub *subscription) {
	if h := s.holds[sub.id]; sub.follow && h != nil && h.at < sub.sent {
		h.at = sub.sent
	}
}

// Unsubscribe ends subscription id and releases its read hold.
func (s *State) Unsubscribe(id string) error {
	if _, ok := s.subs[id]; !ok {
		return onHold("subscription", id, errorf(ErrUnknownId, "no subscription %q", id))
	}
	delete(s.subs, id)
	delete(s.holds, id)
	return nil
}

// Subscriptions returns the ids of the subscriptions, sorted.
func (s *State) Subscriptions() []string {
	ids := make([]string, 0, len(s.subs))
	for id := range s.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// publish returns, for every subscription in id order, the part of v it
// reads (if any) and progress to the current upper.
func (s *State) publish(v *messages.StorageVersion) []Delivery {
	var out []Delivery
	upper := messages.FromFrontier(s.upper)
	sent, _ := s.upper.Time()
	for _, id := range s.Subscriptions() {
		sub := s.subs[id]
		if sub.collection {
			continue // progress comes with its collection's appends
		}
		sub.sent = sent
		s.follow(sub)
		if tables := filterTables(v.Tables, sub.tables); len(tables) > 0 && timely.Timestamp(v.Version) >= sub.from {
			out = append(out, Delivery{To: sub.owner, Msg: &messages.StorageCdcBatch{
				SubscriptionId: id,
				Batch:          &messages.StorageVersion{Version: v.Version, Tables: tables},
			}})
		}
		out = append(out, Delivery{To: sub.owner, Msg: &messages.StorageCdcProgress{SubscriptionId: id, Upper: upper}})
	}
	return out
}

// Follow moves a read-only state's common upper to upper, which another
// writer's commits reached, and returns, for every subscription, the parts
// of versions (read from the shards: ascending, each below upper) it reads
// and progress. It does nothing when upper is not ahead.
func (s *State) Follow(versions []*messages.StorageVersion, upper timely.Frontier) []Delivery {
	if !s.upper.LessThan(upper) {
		return nil
	}
	var out []Delivery
	for _, v := range versions {
		next, ok := timely.Timestamp(v.Version).StepForward()
		if !ok || !timely.At(next).LessEqual(upper) {
			break
		}
		if s.upper.LessThan(timely.At(next)) {
			s.upper = timely.At(next)
		}
		out = append(out, s.publish(v)...)
	}
	if s.upper.LessThan(upper) {
		s.upper = upper
		out = append(out, s.publish(&messages.StorageVersion{})...)
	}
	if ut, ok := s.upper.Time(); ok {
		s.oracle = NewOracle(ut)
	}
	return out
}

// filterTables keeps the changes of the tables in set (all when nil). The
// messages are shared, not copied: receivers must not modify them.
func filterTables(tables []*messages.StorageTableChanges, set tableSet) []*messages.StorageTableChanges {
	if set == nil {
		return tables
	}
	var out []*messages.StorageTableChanges
	for _, tc := range tables {
		id, err := tc.Table.ToTimely()
		if err == nil && set.has(id) {
			out = append(out, tc)
		}
	}
	return out
}

// droppedNotices tells every subscription that reads table (or
// collection) id that it was dropped.
func (s *State) droppedNotices(id timely.GlobalId) []Delivery {
	var out []Delivery
	coll := s.IsCollection(id)
	for _, sid := range s.Subscriptions() {
		sub := s.subs[sid]
		if sub.tables.has(id) && sub.collection == coll {
			out = append(out, Delivery{To: sub.owner, Msg: &messages.StorageCdcTableDropped{
				SubscriptionId: sid, Table: messages.FromGlobalId(id),
			}})
		}
	}
	return out
}

// checkNewId rejects an empty id or one a subscription or hold has.
func (s *State) checkNewId(what, id string) error {
	if id == "" {
		return errorf(ErrMalformed, "%s id is empty", what)
	}
	if _, ok := s.holds[id]; ok {
		return onHold(what, id, errorf(ErrDuplicateId, "%s %q: a subscription or read hold with that id exists", what, id))
	}
	return nil
}

// checkSince fails if t is before the since of any of tables.
func (s *State) checkSince(tables []timely.GlobalId, t timely.Timestamp) error {
	for _, id := range tables {
		if tb := s.tables[id]; t < tb.since {
			return onTable(id, errorf(ErrCompacted, "table %s: time %d is before its since %d", id, t, tb.since))
		}
	}
	return nil
}

// Consumers are a State's subscriptions and read holds, carried from one
// incarnation of the storage actor to the next when its supervisor
// restarts it: the consumers still run and must neither lose their holds
// nor miss a version.
type Consumers struct {
	subs  []*subscription
	holds []*readHold
}

// TakeConsumers returns the subscriptions and read holds and forgets them.
func (s *State) TakeConsumers() Consumers {
	var c Consumers
	for _, sub := range s.subs {
		c.subs = append(c.subs, sub)
	}
	for _, h := range s.holds {
		c.holds = append(c.holds, h)
	}
	s.subs, s.holds = map[string]*subscription{}, map[string]*readHold{}
	return c
}

// Resume is a carried subscription that must be brought up to date: the
// versions of Tables in [From, upper) from the shards, then progress.
type Resume struct {
	Id     string
	Owner  *actor.PID
	Tables []timely.GlobalId
	From   timely.Timestamp
	// Upper is the subscription's upper: the tables' common one, or its
	// collection's.
	Upper timely.Frontier
}

// RestoreConsumers registers the consumers of a previous incarnation and
// returns the subscriptions to resume, in id order (with their live
// tables). Their sent position moves to the upper: the caller replays the
// gap.
func (s *State) RestoreConsumers(c Consumers) []Resume {
	for _, h := range c.holds {
		s.holds[h.id] = h
	}
	var out []Resume
	for _, sub := range c.subs {
		s.subs[sub.id] = sub
		live := s.LiveTables()
		if sub.collection {
			live = s.LiveCollections()
		}
		var tables []timely.GlobalId
		for _, id := range live {
			if sub.tables.has(id) {
				tables = append(tables, id)
			}
		}
		upper := s.upper
		if sub.collection {
			upper = s.uppersOf(tables)
		}
		out = append(out, Resume{Id: sub.id, Owner: sub.owner, Tables: tables, From: max(sub.sent, sub.from), Upper: upper})
		sent, _ := upper.Time()
		sub.sent = sent
		s.follow(sub)
	}
	slices.SortFunc(out, func(a, b Resume) int { return strings.Compare(a.Id, b.Id) })
	return out
}

// Owners returns the owners of the subscriptions and read holds.
func (s *State) Owners() []*actor.PID {
	var out []*actor.PID
	for _, h := range s.holds {
		if h.owner != nil {
			out = append(out, h.owner)
		}
	}
	return out
}

// EndSubscriptions ends every subscription and its read hold, and returns
// the StorageCdcEnded notices (with err) for their consumers.
func (s *State) EndSubscriptions(err error) []Delivery {
	var out []Delivery
	for _, id := range s.Subscriptions() {
		out = append(out, Delivery{To: s.subs[id].owner, Msg: &messages.StorageCdcEnded{SubscriptionId: id, Error: messages.ErrorToWire(err)}})
		delete(s.subs, id)
		delete(s.holds, id)
	}
	return out
}
