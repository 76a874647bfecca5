package pool

import (
	"context"
	"time"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// FlowId names a flow inside one replica runtime. Flow f lives on worker
// f % N.
type FlowId uint64

// SourceKind says where a flow's source collection lives.
type SourceKind uint8

const (
	// SourceTable is a table of the storage layer.
	SourceTable SourceKind = iota + 1
	// SourceView is the output of a materialized flow of the same runtime,
	// committed by the coordinator.
	SourceView
	// SourceCollection is a storage collection with its own upper (a
	// materialized view's shard, written by whichever cluster computes
	// it), read from storage like a table.
	SourceCollection
)

// String names the kind.
func (k SourceKind) String() string {
	switch k {
	case SourceTable:
		return "table"
	case SourceView:
		return "view"
	case SourceCollection:
		return "collection"
	}
	return "unknown"
}

// Source is one collection a flow reads.
type Source struct {
	Id   timely.GlobalId
	Kind SourceKind
}

// FlowSpec describes a flow: a compiled plan, the collection it exports,
// and where its sources live. It is immutable once registered.
type FlowSpec struct {
	// Id is the flow's id; it picks the worker.
	Id FlowId
	// Export is the collection the flow produces (an index or a
	// materialized view).
	Export timely.GlobalId
	// Plan is the compiled plan; its sources are exactly Sources' ids.
	Plan *dataflow.Plan
	// Sources are the plan's direct sources.
	Sources []Source
	// AsOf is the first time the output is exact for.
	AsOf timely.Timestamp
	// Materialized flows return their output changes with every batch so
	// that the coordinator can commit them; other flows keep only their
	// arrangement (an index).
	Materialized bool
	// TickInterval, when positive, asks the coordinator to Tick the flow
	// this often.
	TickInterval time.Duration
}

// Reader reads the history of source collections. Workers use it to
// rebuild a flow from its checkpoint; the coordinator uses it to backfill.
// It may block on I/O, and returns once ctx is done.
type Reader interface {
	// Read returns the updates of src with from <= time < to (from 0: the
	// whole history, compacted history at the source's since), in any
	// order.
	Read(ctx context.Context, src Source, from, to timely.Timestamp) ([]dataflow.Update, error)
}

// FlowBatch is the input of one flow for the versions [From, Upper): the
// changes of its direct sources in that range. A batch with no updates
// still advances the flow's frontier to Upper.
type FlowBatch struct {
	Flow        FlowId
	From, Upper timely.Timestamp
	Updates     map[timely.GlobalId][]dataflow.Update
}

// Changes returns the number of updates in the batch.
func (b FlowBatch) Changes() int {
	n := 0
	for _, us := range b.Updates {
		n += len(us)
	}
	return n
}

// FlowResult is what a worker did with one FlowBatch.
type FlowResult struct {
	Flow FlowId
	// Upper is the flow's checkpoint after the batch (the batch's Upper on
	// success).
	Upper timely.Timestamp
	// Output holds a materialized flow's output changes for the batch, in
	// time order; Errors its error changes.
	Output []dataflow.Update
	Errors []dataflow.ErrorUpdate
	// Err is non-nil when the batch was not applied; the flow must then be
	// rebuilt (see Rebuild) before it is fed again.
	Err error
}
