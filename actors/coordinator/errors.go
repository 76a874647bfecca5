package coordinator

import "github.com/arbor-db/arbor/messages"

// Errors of the coordinator, each with its wire code. Replies and events
// carry them wrapped with the flow, collection or times involved. A store
// call that does not finish within Config.StoreTimeout fails with an error
// that names the operation and matches messages.ErrTimeout.
var (
	// ErrBusy answers a Consume that arrived while the coordinator was not
	// Idle. Nothing was consumed; the sender retries once told Ready.
	ErrBusy = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "coordinator busy")
	// ErrIllegalTransition: the phase machine was given an event its
	// current phase does not accept. It is a bug in the coordinator.
	ErrIllegalTransition = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "coordinator: illegal phase transition")
	// ErrInvalidConsume: a Consume whose versions leave a gap after what was
	// consumed, or whose changes lie outside its version range.
	ErrInvalidConsume = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "coordinator: invalid consume")
	// ErrInvalidFlow: an install that names an existing flow or export, a
	// view source no materialized flow of this runtime produces, or a plan
	// whose sources differ from the flow's.
	ErrInvalidFlow = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "coordinator: invalid flow")
	// ErrUnknownFlow: a drop of a flow that is not installed.
	ErrUnknownFlow = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "coordinator: unknown flow")
	// ErrFlowInUse: a drop of a flow whose output other flows read.
	ErrFlowInUse = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "coordinator: flow is read by other flows")
	// ErrCommit: committing outputs and checkpoints failed; the checkpoints
	// stayed where they were and the flows of the step backfill from them.
	// The error also wraps the store's cause (so a timed-out commit
	// matches messages.ErrTimeout and carries its code on the wire).
	ErrCommit = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_BACKEND, "coordinator: commit failed")
	// ErrCheckpoints: the committed checkpoints could not be read (they
	// are read once, when the first install needs them); the installs
	// waiting for them fail with it, and the next install reads again.
	ErrCheckpoints = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_BACKEND, "coordinator: committed checkpoints unavailable")
)
