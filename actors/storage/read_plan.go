package storage

import "github.com/arbor-db/arbor/timely"

// RangePlan is a validated range read: for each table, read [Starts[i],
// CompleteTo) from its shard.
type RangePlan struct {
	Tables     []timely.GlobalId
	Starts     []timely.Timestamp
	CompleteTo timely.Timestamp
}

// PlanRange validates a read of the changes in [lo, hi) of the named live
// tables and collections (all tables when ids is empty). hi is clamped to
// their least upper (a collection has its own). A
// table whose since is after lo is read from its since (history before it
// reported at the since); a range that ends at or before a since fails
// with ErrCompacted.
func (s *State) PlanRange(ids []timely.GlobalId, lo, hi timely.Timestamp) (RangePlan, error) {
	tables, err := s.resolve(ids)
	if err != nil {
		return RangePlan{}, err
	}
	if ut, ok := s.uppersOf(tables).Time(); ok && hi > ut {
		hi = ut
	}
	p := RangePlan{Tables: tables, Starts: make([]timely.Timestamp, len(tables)), CompleteTo: max(lo, hi)}
	for i, id := range tables {
		since := s.tables[id].since
		if lo < hi && hi <= since {
			return RangePlan{}, onTable(id, errorf(ErrCompacted, "table %s: range [%d, %d) is before its since %d", id, lo, hi, since))
		}
		p.Starts[i] = max(lo, since)
	}
	return p, nil
}

// PlanSnapshot validates a snapshot of the named live tables (all when ids
// is empty) at asOf (the latest complete time when nil): since <= asOf <
// upper for each.
func (s *State) PlanSnapshot(ids []timely.GlobalId, asOf *uint64) ([]timely.GlobalId, timely.Timestamp, error) {
	tables, err := s.resolve(ids)
	if err != nil {
		return nil, 0, err
	}
	upper := s.uppersOf(tables)
	var t timely.Timestamp
	if asOf != nil {
		t = timely.Timestamp(*asOf)
	} else if latest, ok := upper.StepBack(); ok {
		t, _ = latest.Time()
	} else {
		return nil, 0, errorf(ErrNotYetReadable, "no write has been committed yet (upper %s)", upper)
	}
	if upper.Admits(t) {
		return nil, 0, errorf(ErrNotYetReadable, "snapshot at %d: the upper is %s", t, upper)
	}
	if err := s.checkSince(tables, t); err != nil {
		return nil, 0, err
	}
	return tables, t, nil
}
