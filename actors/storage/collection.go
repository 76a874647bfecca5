package storage

import (
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Collections are shards that storage owns but does not write itself: a
// materialized view's replicas append its output with compare-and-append
// at the collection's own upper (StorageAppend). The first append of a
// time range wins; a writer that expected another upper gets
// ErrUpperMismatch with the current upper and continues from there, so a
// range is never written twice. Collections share the table map (ids,
// schemas, sinces, drops, read holds, snapshots and range reads treat them
// alike) but not the common upper or group commit.

// CreateCollection records a collection the actor created durably (its
// shard at lower, its registry entry written).
func (s *State) CreateCollection(id timely.GlobalId, schema dataflow.Schema, lower timely.Timestamp) {
	s.tables[id] = &table{id: id, schema: schema, collection: true, upper: timely.At(lower)}
}

// CollectionAppend is a decoded and validated StorageAppend.
type CollectionAppend struct {
	Collection      timely.GlobalId
	Updates         []persistence.Update
	Expected, Upper timely.Timestamp
	// rows are the updates' decoded rows (parallel to Updates), for CDC.
	rows []rowChange
}

// DecodeAppend validates a StorageAppend against the collection: it must
// be a live collection whose upper is expected_upper (else
// ErrUpperMismatch), new_upper must be
// after it, and every update a valid row at a time in [expected_upper,
// new_upper) with a non-zero diff. Nothing is changed. The collection's
// current upper is returned once the collection is known (nil before).
func (s *State) DecodeAppend(m *messages.StorageAppend) (CollectionAppend, *timely.Frontier, error) {
	id, err := decodeId("append", m.GetCollection())
	if err != nil {
		return CollectionAppend{}, nil, err
	}
	t, err := s.lookup(id)
	if err != nil {
		return CollectionAppend{}, nil, err
	}
	if !t.collection {
		return CollectionAppend{}, nil, onTable(id, errorf(ErrWrongKind, "append: %s is a table: write to it with StorageWrite", id))
	}
	lo, hi := timely.Timestamp(m.GetExpectedUpper()), timely.Timestamp(m.GetNewUpper())
	if hi <= lo {
		return CollectionAppend{}, nil, onTable(id, errorf(ErrMalformed, "append to %s: new upper %d is not after the expected upper %d", id, hi, lo))
	}
	cur := t.upper
	if !cur.Equal(timely.At(lo)) {
		return CollectionAppend{}, &cur, onTable(id, errorf(ErrUpperMismatch, "append to %s: expected upper %d, the upper is %s", id, lo, t.upper))
	}
	a := CollectionAppend{Collection: id, Expected: lo, Upper: hi, Updates: make([]persistence.Update, 0, len(m.GetUpdates()))}
	for j, u := range m.GetUpdates() {
		if u.GetDiff() == 0 {
			return CollectionAppend{}, &cur, onTable(id, errorf(ErrMalformed, "append to %s: update %d: diff is 0", id, j))
		}
		if ut := timely.Timestamp(u.GetTime()); ut < lo || ut >= hi {
			return CollectionAppend{}, &cur, onTable(id, errorf(ErrMalformed, "append to %s: update %d: time %d is outside [%d, %d)", id, j, ut, lo, hi))
		}
		rc, err := decodeRowChange(t, j, &messages.StorageRowDiff{Row: u.GetRow(), Diff: &u.Diff})
		if err != nil {
			return CollectionAppend{}, &cur, err
		}
		a.Updates = append(a.Updates, persistence.Update{Key: rc.key, Ts: timely.Timestamp(u.GetTime()), Diff: rc.diff})
		a.rows = append(a.rows, rc)
	}
	return a, &cur, nil
}

// ApplyAppend records that append a is durable: the collection's upper
// moves to a.Upper. It returns, for every subscription of the collection,
// the append's versions (one batch per time with changes, at or after the
// subscription's from) and progress to the new upper.
func (s *State) ApplyAppend(a CollectionAppend) []Delivery {
	t, ok := s.tables[a.Collection]
	if !ok || !t.collection || !t.upper.Equal(timely.At(a.Expected)) {
		panic(fmt.Sprintf("storage: applied append to %s at %d does not match its upper", a.Collection, a.Expected))
	}
	t.upper = timely.At(a.Upper)
	var subs []*subscription
	for _, id := range s.Subscriptions() {
		if sub := s.subs[id]; sub.collection && sub.tables.has(a.Collection) {
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		return nil
	}
	byTime := map[timely.Timestamp][]rowChange{}
	var times []timely.Timestamp
	for i, u := range a.Updates {
		if _, ok := byTime[u.Ts]; !ok {
			times = append(times, u.Ts)
		}
		byTime[u.Ts] = append(byTime[u.Ts], a.rows[i])
	}
	slices.Sort(times)
	var versions []*messages.StorageVersion
	for _, ts := range times {
		if rows := consolidateChanges(byTime[ts]); len(rows) > 0 {
			versions = append(versions, &messages.StorageVersion{Version: uint64(ts), Tables: []*messages.StorageTableChanges{tableChanges(a.Collection, rows)}})
		}
	}
	var out []Delivery
	upper := messages.FromFrontier(t.upper)
	for _, sub := range subs {
		for _, v := range versions {
			if timely.Timestamp(v.Version) >= sub.from {
				out = append(out, Delivery{To: sub.owner, Msg: &messages.StorageCdcBatch{SubscriptionId: sub.id, Batch: v}})
			}
		}
		out = append(out, Delivery{To: sub.owner, Msg: &messages.StorageCdcProgress{SubscriptionId: sub.id, Upper: upper}})
		sub.sent = a.Upper
		s.follow(sub)
	}
	return out
}
