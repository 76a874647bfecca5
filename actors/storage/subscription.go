package storage

import (
	"slices"

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
	if err := s.checkSince(tables, from); err != nil {
		return nil, err
	}
	if snapshot && !timely.Answerable(from, timely.Minimum(), s.upper) {
		return nil, errorf(ErrNotYetReadable, "subscription %q: snapshot at %d: the upper is %s", id, from, s.upper)
	}
	return tables, nil
}

// AddSubscription registers a validated subscription (CheckSubscribe) that
// the actor has brought up to date (replayed below the upper), with its
// read hold at from. ids empty means every table, including later ones.
func (s *State) AddSubscription(id string, owner *actor.PID, ids []timely.GlobalId, from timely.Timestamp) {
	set := newTableSet(ids)
	s.subs[id] = &subscription{id: id, owner: owner, tables: set}
	s.holds[id] = &readHold{id: id, owner: owner, tables: set, at: from, subscription: true}
}

// Unsubscribe ends subscription id and releases its read hold.
func (s *State) Unsubscribe(id string) error {
	if _, ok := s.subs[id]; !ok {
		return errorf(ErrUnknownId, "no subscription %q", id)
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
	for _, id := range s.Subscriptions() {
		sub := s.subs[id]
		if tables := filterTables(v.Tables, sub.tables); len(tables) > 0 {
			out = append(out, Delivery{To: sub.owner, Msg: &messages.StorageCdcBatch{
				SubscriptionId: id,
				Batch:          &messages.StorageVersion{Version: v.Version, Tables: tables},
			}})
		}
		out = append(out, Delivery{To: sub.owner, Msg: &messages.StorageCdcProgress{SubscriptionId: id, Upper: upper}})
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

// droppedNotices tells every subscription that reads table id that it was
// dropped.
func (s *State) droppedNotices(id timely.GlobalId) []Delivery {
	var out []Delivery
	for _, sid := range s.Subscriptions() {
		sub := s.subs[sid]
		if sub.tables.has(id) {
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
		return errorf(ErrDuplicateId, "%s %q: a subscription or read hold with that id exists", what, id)
	}
	return nil
}

// checkSince fails if t is before the since of any of tables.
func (s *State) checkSince(tables []timely.GlobalId, t timely.Timestamp) error {
	for _, id := range tables {
		if tb := s.tables[id]; t < tb.since {
			return errorf(ErrCompacted, "table %s: time %d is before its since %d", id, t, tb.since)
		}
	}
	return nil
}
