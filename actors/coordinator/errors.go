package coordinator

import "errors"

// Errors of the coordinator. Replies and events carry them wrapped with the
// flow, collection or times involved.
var (
	// ErrBusy answers a Consume that arrived while the coordinator was not
	// Idle. Nothing was consumed; the sender retries.
	ErrBusy = errors.New("coordinator busy")
	// ErrIllegalTransition: the phase machine was given an event its
	// current phase does not accept. It is a bug in the coordinator.
	ErrIllegalTransition = errors.New("coordinator: illegal phase transition")
	// ErrInvalidConsume: a Consume whose versions leave a gap after what was
	// consumed, or whose changes lie outside its version range.
	ErrInvalidConsume = errors.New("coordinator: invalid consume")
	// ErrInvalidFlow: an install that names an existing flow or export, a
	// view source no materialized flow of this runtime produces, or a plan
	// whose sources differ from the flow's.
	ErrInvalidFlow = errors.New("coordinator: invalid flow")
	// ErrUnknownFlow: a drop or peek of a flow that is not installed.
	ErrUnknownFlow = errors.New("coordinator: unknown flow")
	// ErrFlowInUse: a drop of a flow whose output other flows read.
	ErrFlowInUse = errors.New("coordinator: flow is read by other flows")
	// ErrCommit: committing outputs and checkpoints failed; the checkpoints
	// stayed where they were and the flows of the batch backfill from them.
	ErrCommit = errors.New("coordinator: commit failed")
)
