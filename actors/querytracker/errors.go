package querytracker

import "github.com/arbor-db/arbor/messages"

// Errors returned by the Tracker's command methods, each with its wire
// code. A command that returns
// one of them changed nothing except as its doc says; the actor logs it and
// counts it in arbor_querytracker_ignored_commands_total. None of them is
// ever returned to a sender: commands are fire-and-forget.
var (
	// ErrInvalidCommand marks a command that cannot be applied as given: a
	// zero uuid or execution id, an unknown strategy or outcome, or a
	// protobuf message that does not decode (it then also wraps
	// messages.ErrMalformed). An invalid TrackPeek still retires its
	// execution with an error, so the handle does not leak.
	ErrInvalidCommand = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "querytracker: invalid command")
	// ErrUnknownPeek marks an UntrackPeek or ObservePeekNotification for a
	// uuid that is not tracked: never tracked, or already ended (a late or
	// duplicate notification). Nothing changes.
	ErrUnknownPeek = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "querytracker: peek is not tracked")
	// ErrDuplicatePeek marks a TrackPeek for a uuid that is already tracked.
	// The tracked peek is left alone.
	ErrDuplicatePeek = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "querytracker: peek is already tracked")
	// ErrPeekEnded marks a TrackPeek for a peek that was tracked and has
	// already ended (a stale duplicate). Nothing is tracked.
	ErrPeekEnded = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "querytracker: peek already ended")
	// ErrExecutionHasPeek marks a TrackPeek whose execution already has
	// another tracked peek; the new peek is not tracked and its compute peek
	// is canceled.
	ErrExecutionHasPeek = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "querytracker: execution already has a tracked peek")
	// ErrUnknownExecution marks a setter or EndExecution for an execution the
	// log does not hold (never begun, or ended so long ago it was evicted).
	ErrUnknownExecution = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "querytracker: unknown execution")
	// ErrExecutionExists marks a BeginExecution for an execution the log
	// already holds.
	ErrExecutionExists = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "querytracker: execution already begun")
	// ErrExecutionEnded marks a statement-log setter that arrived after its
	// execution ended. It is a no-op by design: setters race the end.
	ErrExecutionEnded = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "querytracker: execution already ended")
	// ErrAlreadyRetired marks a second retirement of an execution handle.
	// The first retirement stands; the second is reported (logged, counted in
	// arbor_querytracker_double_retirements_total and in Dump).
	ErrAlreadyRetired = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "querytracker: execution handle already retired")
	// ErrTrackerStopped is returned by Handle.Dump when the tracker actor has
	// stopped. Handle.Send never returns it: it logs and counts instead.
	ErrTrackerStopped = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "querytracker: tracker is stopped")
)
