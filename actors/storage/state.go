package storage

import (
	"slices"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// State is the storage actor's logic: tables, the oracle, staged writes,
// subscriptions and read holds. It does no I/O, reads no clock and starts
// no goroutines; the actor performs the shard I/O State plans (commits,
// compaction, reads) and reports back. It is not safe for concurrent use.
type State struct {
	// constant after construction
	window uint64
	// alwaysLog: every group commits through the commit log, whose
	// compare-and-append then fences out an older writer (fence.go).
	alwaysLog bool

	tables map[timely.GlobalId]*table
	// upper is the common upper of every live table.
	upper  timely.Frontier
	oracle Oracle
	// pending are the writes staged for the next group commit.
	pending []staged
	// logged is the last group's entries in the commit log, retracted by
	// the next group.
	logged []persistence.Update

	subs  map[string]*subscription
	holds map[string]*readHold
	// pins hold back compaction for the reads in flight (PinRead); they
	// are not carried over a restart, which ends the reads.
	pins    map[uint64]readPin
	nextPin uint64
}

// NewState returns the state of a storage actor that found tables (live
// and dropped) at the common upper; window is Config.CompactionWindow.
func NewState(tables []TableInfo, upper timely.Frontier, window uint64) *State {
	s := &State{
		window: window,
		tables: make(map[timely.GlobalId]*table, len(tables)),
		upper:  upper,
		subs:   map[string]*subscription{},
		holds:  map[string]*readHold{},
		pins:   map[uint64]readPin{},
	}
	for _, t := range tables {
		s.tables[t.Id] = &table{id: t.Id, schema: t.Schema, dropped: t.Dropped, since: t.Since, collection: t.Collection, upper: t.Upper, appendOnly: t.AppendOnly}
	}
	if ut, ok := upper.Time(); ok {
		s.oracle = NewOracle(ut)
	}
	return s
}

// CommitThroughLog makes every group commit through the commit log (a
// fenced writer, fence.go).
func (s *State) CommitThroughLog() { s.alwaysLog = true }

// RestoreLog tells a recovered State what the commit log holds (the last
// group's entries), so the next group retracts them.
func (s *State) RestoreLog(entries []persistence.Update) { s.logged = entries }

// Upper returns the common upper of the live tables.
func (s *State) Upper() timely.Frontier { return s.upper }

// Pending returns how many writes are staged for the next commit.
func (s *State) Pending() int { return len(s.pending) }

// resolve returns the live tables named by ids in id order, every live
// table when ids is empty, or the error for the first bad id.
func (s *State) resolve(ids []timely.GlobalId) ([]timely.GlobalId, error) {
	if len(ids) == 0 {
		return s.LiveTables(), nil
	}
	out := make([]timely.GlobalId, 0, len(ids))
	for _, id := range ids {
		if _, err := s.lookup(id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	sortIds(out)
	return slices.Compact(out), nil
}

// tableSet is a set of table ids; nil means every table (present and
// future).
type tableSet map[timely.GlobalId]struct{}

func newTableSet(ids []timely.GlobalId) tableSet {
	if len(ids) == 0 {
		return nil
	}
	set := make(tableSet, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	return set
}

func (ts tableSet) has(id timely.GlobalId) bool {
	if ts == nil {
		return true
	}
	_, ok := ts[id]
	return ok
}

func sortIds(ids []timely.GlobalId) { slices.SortFunc(ids, timely.GlobalId.Compare) }
