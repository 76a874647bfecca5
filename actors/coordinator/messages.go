package coordinator

import (
	"time"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// Messages of the coordinator. They are Go structs: the coordinator, its
// pool and the runtime that feeds it live in one process (one replica
// runtime); the runtime speaks protobuf to the outside.

// Consume hands the coordinator the storage changes of versions
// [From, Upper), per table, each update's Time its version. It is answered
// with *ConsumeReply: ok once the changes were applied to every active
// flow and committed, ErrBusy (wrapped) when the coordinator was not Idle
// (the sender gets *Ready when it is, and retries), or another error.
type Consume struct {
	From, Upper timely.Timestamp
	Changes     map[timely.GlobalId][]dataflow.Update
}

// CollectionProgress reports that storage collection Collection is
// complete below Upper (its own CDC progress; collections do not share
// the tables' upper), with its Changes in [From, Upper) as its CDC
// delivered them (From: where the previous progress ended; From = Upper
// for a first progress without history). Flows reading it advance by
// reads up to their input frontier, served from these changes while the
// coordinator keeps them. No reply; accepted in every phase.
type CollectionProgress struct {
	Collection  timely.GlobalId
	From, Upper timely.Timestamp
	Changes     []dataflow.Update
}

// ConsumeReply answers a Consume. Upper is the coordinator's consumed
// upper after it.
type ConsumeReply struct {
	Upper timely.Timestamp
	Err   error
}

// Ready tells a sender whose Consume was answered busy that the
// coordinator is Idle again.
type Ready struct{}

// InstallFlow installs a flow; it registers with the pool and backfills
// from its committed checkpoint (zero when it has none). Answered with
// *InstallFlowReply once validated; registration and backfill progress are
// reported as FlowEvents.
type InstallFlow struct {
	Spec pool.FlowSpec
}

// InstallFlowReply answers InstallFlow; Err wraps ErrInvalidFlow for a
// flow that cannot be installed.
type InstallFlowReply struct {
	Flow       pool.FlowId
	Checkpoint timely.Timestamp
	Err        error
}

// DropFlow removes a flow. Answered with *DropFlowReply.
type DropFlow struct {
	Flow pool.FlowId
}

// DropFlowReply answers DropFlow; Err wraps ErrUnknownFlow or
// ErrFlowInUse.
type DropFlowReply struct {
	Flow pool.FlowId
	Err  error
}

// AllowCompaction lets the committed output of materialized flow Export
// be folded up to Frontier, as far as the flows that read it as a view
// allow: the runtime sends the least of the controller's compaction
// frontier and what its own readers of the output (a subscribe's next
// batch, a materialized view's next append) still need. Frontiers never
// regress. No reply, unless the message has a sender: then
// *AllowCompactionReply (with ErrUnknownFlow or ErrInvalidFlow for an
// export no materialized flow has).
type AllowCompaction struct {
	Export   timely.GlobalId
	Frontier timely.Timestamp
}

// AllowCompactionReply answers an AllowCompaction that has a sender.
type AllowCompactionReply struct {
	Export timely.GlobalId
	Err    error
}

// Tick drives tick schedules: flows whose TickInterval elapsed at Now are
// ticked (only while Idle). No reply.
type Tick struct {
	Now time.Time
}

// Status asks what the coordinator is doing; it is answered with
// *StatusReply at once, also while a store operation is in flight.
type Status struct{}

// StatusReply answers Status.
type StatusReply struct {
	Phase         Phase
	Upper         timely.Timestamp // consumed
	MinCheckpoint timely.Timestamp // least committed checkpoint (Upper without flows)
	Flows         map[FlowState]int
	// StoreOps names the store operations in flight ("commit of 3 output
	// changes and 1 checkpoints"); empty when none.
	StoreOps []string
}

// FlowEvents carries the events of one step to Config.Events.
type FlowEvents struct {
	Events []FlowEvent
}

// continueBackfill is the coordinator's message to itself between
// backfill rounds, queued behind whatever arrived meanwhile.
type continueBackfill struct{}
