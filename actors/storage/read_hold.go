package storage

import (
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/timely"
)

// readHold keeps the since of its tables at or before at.
type readHold struct {
	// tables are the ids it holds; nil means every table, present and
	// future, but no collection: a collection is held only by name, so a
	// consumer of the tables' CDC never holds back the compaction of a
	// collection it does not read.
	id     string
	owner  *actor.PID
	tables tableSet
	at     timely.Timestamp
	// subscription: the hold of the subscription with the same id,
	// released only with it.
	subscription bool
}

// AcquireHold takes read hold id at time at on the named tables and
// collections (every table, including later ones, but no collection, when
// ids is empty). at must not be before any such table's since.
func (s *State) AcquireHold(id string, owner *actor.PID, ids []timely.GlobalId, at timely.Timestamp) error {
	if err := s.checkNewId("read hold", id); err != nil {
		return err
	}
	tables, err := s.resolve(ids)
	if err != nil {
		return err
	}
	if err := s.checkSince(tables, at); err != nil {
		return err
	}
	s.holds[id] = &readHold{id: id, owner: owner, tables: newTableSet(ids), at: at}
	return nil
}

// LatestSince returns the latest since of the named tables and
// collections (of every table when ids is empty), or ErrUnknownId.
func (s *State) LatestSince(ids []timely.GlobalId) (timely.Timestamp, error) {
	tables, err := s.resolve(ids)
	if err != nil {
		return 0, err
	}
	var since timely.Timestamp
	for _, id := range tables {
		since = max(since, s.tables[id].since)
	}
	return since, nil
}

// covers reports whether the hold bounds the compaction of id (a
// collection when collection is set).
func (h *readHold) covers(id timely.GlobalId, collection bool) bool {
	if h.tables == nil {
		return !collection
	}
	return h.tables.has(id)
}

// DowngradeHold moves hold id (a read hold or a subscription's) forward to
// at. Moving it back is ErrHoldRegression; staying put is a no-op.
func (s *State) DowngradeHold(id string, at timely.Timestamp) error {
	h, ok := s.holds[id]
	if !ok {
		return onHold("read hold", id, errorf(ErrUnknownId, "no read hold %q", id))
	}
	if at < h.at {
		return onHold("read hold", id, errorf(ErrHoldRegression, "read hold %q is at %d; cannot move back to %d", id, h.at, at))
	}
	h.at = at
	return nil
}

// ReleaseHold drops read hold id. A subscription's hold goes with the
// subscription (Unsubscribe).
func (s *State) ReleaseHold(id string) error {
	h, ok := s.holds[id]
	switch {
	case !ok:
		return onHold("read hold", id, errorf(ErrUnknownId, "no read hold %q", id))
	case h.subscription:
		return onHold("read hold", id, errorf(ErrMalformed, "read hold %q belongs to a subscription: unsubscribe to release it", id))
	}
	delete(s.holds, id)
	return nil
}

// Hold returns the position of hold id.
func (s *State) Hold(id string) (timely.Timestamp, bool) {
	h, ok := s.holds[id]
	if !ok {
		return 0, false
	}
	return h.at, true
}

// HoldInfo is a read hold as ListHolds reports it.
type HoldInfo struct {
	Id    string
	Owner *actor.PID
	// Tables, in id order; nil for every table.
	Tables       []timely.GlobalId
	At           timely.Timestamp
	Subscription bool
}

// ListHolds returns the read holds whose id starts with prefix, in id
// order.
func (s *State) ListHolds(prefix string) []HoldInfo {
	var out []HoldInfo
	for id, h := range s.holds {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		info := HoldInfo{Id: id, Owner: h.owner, At: h.at, Subscription: h.subscription}
		for t := range h.tables {
			info.Tables = append(info.Tables, t)
		}
		sortIds(info.Tables)
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b HoldInfo) int { return strings.Compare(a.Id, b.Id) })
	return out
}

// ReleaseOwner ends every subscription and read hold owned by pid (which
// terminated). It reports whether there were any.
func (s *State) ReleaseOwner(pid *actor.PID) bool {
	changed := false
	for id, h := range s.holds {
		if h.owner.Equal(pid) {
			delete(s.holds, id)
			delete(s.subs, id)
			changed = true
		}
	}
	return changed
}

// readPin keeps the since of tables at or before at while a read of them
// is in flight.
type readPin struct {
	tables []timely.GlobalId
	at     timely.Timestamp
}

// PinRead holds back compaction of tables at at (a time the caller checked
// is not before their since) until UnpinRead: the read the actor runs in
// a goroutine must not find its history compacted away.
func (s *State) PinRead(tables []timely.GlobalId, at timely.Timestamp) uint64 {
	s.nextPin++
	s.pins[s.nextPin] = readPin{tables: slices.Clone(tables), at: at}
	return s.nextPin
}

// UnpinRead releases pin id.
func (s *State) UnpinRead(id uint64) { delete(s.pins, id) }

// SinceChange is a compaction State wants: Table's since moves to Since.
type SinceChange struct {
	Table timely.GlobalId
	Since timely.Timestamp
}

// CompactionTargets returns, for every live table and collection whose
// since may move forward, the new since: its latest complete time minus the compaction
// window, but never past the least read hold on the table. Apply each with
// ApplySince once the shard's since moved.
func (s *State) CompactionTargets() []SinceChange {
	var out []SinceChange
	for _, id := range append(s.LiveTables(), s.LiveCollections()...) {
		ut, ok := s.upperOf(s.tables[id]).Time()
		if !ok || ut == 0 {
			continue
		}
		latest := ut - 1
		target := uint64(0)
		if uint64(latest) > s.window {
			target = uint64(latest) - s.window
		}
		t := timely.Timestamp(target)
		for _, h := range s.holds {
			if h.covers(id, s.tables[id].collection) && h.at < t {
				t = h.at
			}
		}
		for _, p := range s.pins {
			if slices.Contains(p.tables, id) && p.at < t {
				t = p.at
			}
		}
		if t > s.tables[id].since {
			out = append(out, SinceChange{Table: id, Since: t})
		}
	}
	return out
}

// ApplySince records that table id's shard since moved to since.
func (s *State) ApplySince(id timely.GlobalId, since timely.Timestamp) {
	if t, ok := s.tables[id]; ok && since > t.since {
		t.since = since
	}
}

// CdcLag returns how many versions the slowest subscription's read hold
// (its consumer's checkpoint) trails the common upper; 0 without
// subscriptions.
func (s *State) CdcLag() uint64 {
	ut, ok := s.upper.Time()
	if !ok || ut == 0 {
		return 0
	}
	var lag uint64
	for id, sub := range s.subs {
		if sub.collection {
			continue // its own upper; see the collection appends metrics
		}
		if h := s.holds[id]; h != nil && h.at < ut {
			lag = max(lag, uint64(ut-h.at))
		}
	}
	return lag
}
