package coordinator

import (
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// Effects is what the Core asks its actor to do after a step, in this
// order: emit Events, send Drop, Committed and Rebuild to the pool, Reply
// to the Consume in progress, then at most one of Register, Submit,
// Reads, Commit and Tick (the next step of the phase), then schedule a
// ContinueBackfill. Reads and Commit are store I/O: the actor performs
// them outside its Receive and feeds the outcome back through ReadDone
// and Committed; the Core waits in ReadingBackfill or Committing.
type Effects struct {
	Events    []FlowEvent
	Drop      []pool.FlowId
	Committed map[pool.FlowId]timely.Timestamp
	Rebuild   []pool.FlowId

	Register *pool.RegisterFlow
	Submit   []pool.FlowBatch
	Reads    []ReadRequest
	Commit   *Commit
	Tick     []pool.FlowId

	// Reply is set when the Consume in progress is answered; ReplyErr is
	// its error (nil: ok).
	Reply    bool
	ReplyErr error

	// ContinueBackfill asks for a ContinueBackfill step once the actor has
	// handled whatever is queued (so a Consume can come first).
	ContinueBackfill bool
}

// ReadRequest asks for the history of a backfilling flow's sources in
// [From, To). Cached holds, for some storage-collection sources, their
// changes in [From, To) as their CDC delivered them: the reader uses them
// and does not read those sources from the store.
type ReadRequest struct {
	Flow     pool.FlowId
	Sources  []pool.Source
	From, To timely.Timestamp
	Cached   map[timely.GlobalId][]dataflow.Update
}

// ReadResult answers a ReadRequest: the updates per source, or an error.
// A reader may cover less than the request (it stops once it has a chunk's
// worth of versions): To is then the end of what it read.
type ReadResult struct {
	Flow    pool.FlowId
	Updates map[timely.GlobalId][]dataflow.Update
	To      timely.Timestamp // zero: the request's To
	Err     error
}

// Commit is one atomic commit: the output changes of materialized flows,
// by exported collection, and the new checkpoints of every flow the step
// advanced. Compaction says, per exported collection, how far its
// committed output may be folded: no reader of it can still ask for a
// time before the frontier (compaction.go), so the store may advance the
// updates before it to it and consolidate them, in the same atomic
// append; it decides whether that is worth doing now.
type Commit struct {
	Outputs     map[timely.GlobalId][]dataflow.Update
	Checkpoints map[pool.FlowId]timely.Timestamp
	Compaction  map[timely.GlobalId]timely.Timestamp
}

// FlowEventKind says what happened to a flow.
type FlowEventKind uint8

const (
	// FrontierAdvanced: the flow's checkpoint (its write frontier) was
	// committed at Upper.
	FrontierAdvanced FlowEventKind = iota + 1
	// Hydrated: the flow finished backfilling and is active.
	Hydrated
	// FlowFailed: a batch, read, registration or commit of the flow failed;
	// Err says why. The flow backfills from its checkpoint (or, for a
	// failed registration, is removed).
	FlowFailed
)

// String names the kind.
func (k FlowEventKind) String() string {
	switch k {
	case FrontierAdvanced:
		return "frontier"
	case Hydrated:
		return "hydrated"
	case FlowFailed:
		return "failed"
	}
	return "unknown"
}

// FlowEvent reports a change of one flow to the runtime.
type FlowEvent struct {
	Kind   FlowEventKind
	Flow   pool.FlowId
	Export timely.GlobalId
	Upper  timely.Timestamp
	Err    error
	// Removed is set on a FlowFailed for a registration that failed: the
	// flow is no longer installed.
	Removed bool
}

func (e *Effects) event(kind FlowEventKind, f *flow, err error) {
	e.Events = append(e.Events, FlowEvent{Kind: kind, Flow: f.spec.Id, Export: f.spec.Export, Upper: f.checkpoint, Err: err})
}
