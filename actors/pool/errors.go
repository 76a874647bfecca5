package pool

import "errors"

// Errors carried in FlowResult.Err and in replies. Each is wrapped with the
// flow, worker or time involved.
var (
	// ErrUnknownFlow: a request names a flow the pool does not hold.
	ErrUnknownFlow = errors.New("pool: unknown flow")
	// ErrFlowExists: RegisterFlow for a flow id already registered.
	ErrFlowExists = errors.New("pool: flow already registered")
	// ErrCheckpointMismatch: a batch's From is not the flow's checkpoint
	// (the worker restarted, or the flow was rebuilt). Nothing was applied.
	ErrCheckpointMismatch = errors.New("pool: batch does not start at the flow's checkpoint")
	// ErrWorkerRestarted: the worker holding the flow panicked while the
	// request was in flight; the supervisor restarted it and it rebuilt its
	// flows from their committed checkpoints.
	ErrWorkerRestarted = errors.New("pool: worker restarted")
	// ErrWorkerFailed: the worker holding the flow failed MaxRestarts times
	// in a row without answering anything and was stopped.
	ErrWorkerFailed = errors.New("pool: worker stopped after repeated failures")
	// ErrFlowBroken: the flow failed to apply or rebuild earlier and waits
	// for a Rebuild.
	ErrFlowBroken = errors.New("pool: flow is broken and must be rebuilt")
	// ErrFlowDropped: a peek waited on a flow that was dropped.
	ErrFlowDropped = errors.New("pool: flow dropped")
	// ErrWrongWorker: SubmitToWorker with a batch for a flow of another
	// worker, or a worker index out of range.
	ErrWrongWorker = errors.New("pool: flow does not live on that worker")
)
