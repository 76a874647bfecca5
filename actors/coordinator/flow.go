package coordinator

import (
	"sort"
	"time"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// FlowState is the coordinator's view of one flow.
type FlowState uint8

const (
	// FlowRegistering: installed, waiting for the pool to register it.
	FlowRegistering FlowState = iota + 1
	// FlowBackfilling: registered, catching up from its checkpoint in
	// chunks read from storage; it gets no Consume changes.
	FlowBackfilling
	// FlowActive: caught up; it gets every Consume's changes.
	FlowActive
)

// String names the state.
func (s FlowState) String() string {
	switch s {
	case FlowRegistering:
		return "registering"
	case FlowBackfilling:
		return "backfilling"
	case FlowActive:
		return "active"
	}
	return "unknown"
}

// flow is the coordinator's record of one flow.
type flow struct {
	spec       pool.FlowSpec
	state      FlowState
	checkpoint timely.Timestamp // committed: every input before it is reflected durably
	// allowed is how far the runtime lets the flow's committed output be
	// folded (AllowCompaction); its readers may allow less (compaction.go).
	allowed timely.Timestamp
	// heldBy holds the checkpoints of dropped flows that read this one's
	// output: one may be installed again and continue from there, so they
	// bound its folds until the runtime allows compaction again
	// (compaction.go).
	heldBy map[pool.FlowId]timely.Timestamp
	tables map[timely.GlobalId]bool
	// collections are the storage collections the flow reads, direct or
	// through views. A flow with any advances by backfill reads only
	// (never by a Consume's batch): its input frontier is not the tables'.
	collections map[timely.GlobalId]bool
	// direct: the flow reads a table itself (its frontier is bounded by
	// the consumed table upper).
	direct    bool
	producers []pool.FlowId // flows producing the flow's view sources
	depth     int           // 0 without view sources, else 1 + max over producers
	lastTick  time.Time
	stalled   bool // backfill failed; retried after the next Consume
	failures  int  // backfill rounds failed in a row
}

// maxBackfillFailures is how many backfill rounds in a row may fail for a
// flow before it stalls until the next Consume (no hot retry loop).
const maxBackfillFailures = 3

// reads reports whether the flow reads a table with changes, directly or
// through views.
func (f *flow) reads(changes map[timely.GlobalId][]dataflow.Update) bool {
	for t := range f.tables {
		if len(changes[t]) > 0 {
			return true
		}
	}
	return false
}

// sortOrder orders flows so that producers come before the flows reading
// them: by depth, then id.
func sortOrder(flows map[pool.FlowId]*flow) []pool.FlowId {
	ids := make([]pool.FlowId, 0, len(flows))
	for id := range flows {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := flows[ids[i]], flows[ids[j]]
		if a.depth != b.depth {
			return a.depth < b.depth
		}
		return ids[i] < ids[j]
	})
	return ids
}
