package pool

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// Requests to the pool. They are Go structs: the pool, its workers and the
// coordinator always live in one process (one replica runtime), so nothing
// here crosses a node. Every request except Committed, DropFlow, Rebuild
// and Peek gets exactly one reply, sent to the request's sender.

// RegisterFlow installs a flow on its worker. A Checkpoint above zero
// rebuilds the flow by replaying its sources up to the checkpoint (their
// outputs were committed before, so they are discarded). Reply:
// *RegisterFlowReply.
type RegisterFlow struct {
	Spec       FlowSpec
	Checkpoint timely.Timestamp
}

// RegisterFlowReply answers RegisterFlow; Err is nil when the flow is ready
// at Checkpoint.
type RegisterFlowReply struct {
	Flow FlowId
	Err  error
}

// Submit fans batches out to the workers owning their flows (flow % N) and
// gathers one reply. Reply: *SubmitReply with one result per batch.
type Submit struct {
	Batches []FlowBatch
}

// SubmitToWorker is Submit restricted to one worker: every batch must be
// for a flow of that worker, else each gets ErrWrongWorker. Reply:
// *SubmitReply.
type SubmitToWorker struct {
	Worker  int
	Batches []FlowBatch
}

// SubmitReply gathers the results of a Submit or SubmitToWorker, one per
// batch, in no particular order.
type SubmitReply struct {
	Results []FlowResult
}

// Tick tells flows that their tick interval elapsed at Now. Reply:
// *TickReply.
type Tick struct {
	Flows []FlowId
	Now   time.Time
}

// TickReply gathers the per-flow answers to a Tick.
type TickReply struct {
	Stats map[FlowId]dataflow.Stats
}

// Committed tells the pool the checkpoints the coordinator made durable.
// A worker that restarts rebuilds its flows at these checkpoints. No reply.
type Committed struct {
	Checkpoints map[FlowId]timely.Timestamp
}

// Rebuild makes the owning workers rebuild flows from their committed
// checkpoints (after a failed batch or commit). No reply: a later request
// to the same worker is processed after the rebuild.
type Rebuild struct {
	Flows []FlowId
}

// DropFlow removes a flow; its waiting peeks fail with ErrFlowDropped. No
// reply.
type DropFlow struct {
	Flow FlowId
}

// CompactFlow lets the flow's worker forget the flow's output history
// before Since (the compute protocol's AllowCompaction): peeks before it
// then fail. A since at or before the current one changes nothing. No
// reply.
type CompactFlow struct {
	Flow  FlowId
	Since timely.Timestamp
}

// Peek reads a flow's output arrangement at Spec.Time. The owning worker
// answers with *PeekReply to ReplyTo: at once when since <= time < upper,
// with an error when time < since, and after the frontier passes the time
// otherwise.
type Peek struct {
	Id      uint64
	Flow    FlowId
	Spec    dataflow.PeekSpec
	ReplyTo *actor.PID
}

// PeekReply answers a Peek: rows (a row with multiplicity n appears n
// times) or an error.
type PeekReply struct {
	Id   uint64
	Flow FlowId
	Rows []dataflow.Row
	Err  error
}

// Workers asks for the number of workers. Reply: *WorkersReply.
type Workers struct{}

// WorkersReply answers Workers.
type WorkersReply struct{ N int }

// Internal messages between the pool and its workers.

type workerRegister struct {
	req        uint64
	spec       FlowSpec
	checkpoint timely.Timestamp
}

type workerSubmit struct {
	req     uint64
	batches []FlowBatch
}

type workerTick struct {
	req   uint64
	flows []FlowId
	now   time.Time
}

type workerRebuild struct{ flows []FlowId }

type workerDrop struct{ flow FlowId }

type workerCompact struct {
	flow  FlowId
	since timely.Timestamp
}

// workerReply answers workerRegister, workerSubmit and workerTick.
type workerReply struct {
	req     uint64
	worker  int
	results []FlowResult
	stats   map[FlowId]dataflow.Stats
}
