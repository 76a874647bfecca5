package pool

import "github.com/arbor-db/arbor/messages"

// Errors carried in FlowResult.Err and in replies, each with its wire
// code. Each is wrapped with the flow, worker or time involved.
var (
	// ErrUnknownFlow: a request names a flow the pool does not hold.
	ErrUnknownFlow = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "pool: unknown flow")
	// ErrFlowExists: RegisterFlow for a flow id already registered.
	ErrFlowExists = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "pool: flow already registered")
	// ErrCheckpointMismatch: a batch's From is not the flow's checkpoint
	// (the worker restarted, or the flow was rebuilt). Nothing was applied.
	ErrCheckpointMismatch = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "pool: batch does not start at the flow's checkpoint")
	// ErrWorkerRestarted: the worker holding the flow panicked while the
	// request was in flight; the supervisor restarted it and it rebuilt its
	// flows from their committed checkpoints.
	ErrWorkerRestarted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "pool: worker restarted")
	// ErrWorkerFailed: the worker holding the flow failed MaxRestarts times
	// in a row without answering anything and was stopped.
	ErrWorkerFailed = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "pool: worker stopped after repeated failures")
	// ErrFlowBroken: the flow failed to apply or rebuild earlier and waits
	// for a Rebuild.
	ErrFlowBroken = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "pool: flow is broken and must be rebuilt")
	// ErrFlowDropped: a peek waited on a flow that was dropped.
	ErrFlowDropped = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_DROPPED, "pool: flow dropped")
	// ErrWrongWorker: SubmitToWorker with a batch for a flow of another
	// worker, or a worker index out of range.
	ErrWrongWorker = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "pool: flow does not live on that worker")
	// ErrNoReader: a flow must be rebuilt from a checkpoint above zero and
	// the pool has no Reader.
	ErrNoReader = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "pool: no Reader to rebuild from")
)
