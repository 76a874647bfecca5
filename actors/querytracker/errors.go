package querytracker

import "errors"

// Errors returned by the Tracker's command methods. A command that returns
// one of them changed nothing except as its doc says; the actor logs it and
// counts it in arbor_querytracker_ignored_commands_total. None of them is
// ever returned to a sender: commands are fire-and-forget.
var (
	// ErrInvalidCommand marks a command that cannot be applied as given: a
	// zero uuid or execution id, an unknown strategy or outcome, or a
	// protobuf message that does not decode (it then also wraps
	// messages.ErrMalformed). An invalid TrackPeek still retires its
	// execution with an error, so the handle does not leak.
	ErrInvalidCommand = errors.New("querytracker: invalid command")
	// ErrUnknownPeek marks an UntrackPeek or ObservePeekNotification for a
	// uuid that is not tracked: never tracked, or already ended (a late or
	// duplicate notification). Nothing changes.
	ErrUnknownPeek = errors.New("querytracker: peek is not tracked")
	// ErrDuplicatePeek marks a TrackPeek for a uuid that is already tracked.
	// The tracked peek is left alone.
	ErrDuplicatePeek = errors.New("querytracker: peek is already tracked")
	// ErrPeekEnded marks a TrackPeek for a peek that was tracked and has
	// already ended (a stale duplicate). Nothing is tracked.
	ErrPeekEnded = errors.New("querytracker: peek already ended")
	// ErrExecutionHasPeek marks a TrackPeek whose execution already has
	// another tracked peek; the new peek is not tracked and its compute peek
	// is canceled.
	ErrExecutionHasPeek = errors.New("querytracker: execution already has a tracked peek")
	// ErrUnknownExecution marks a setter or EndExecution for an execution the
	// log does not hold (never begun, or ended so long ago it was evicted).
	ErrUnknownExecution = errors.New("querytracker: unknown execution")
	// ErrExecutionExists marks a BeginExecution for an execution the log
	// already holds.
	ErrExecutionExists = errors.New("querytracker: execution already begun")
	// ErrExecutionEnded marks a statement-log setter that arrived after its
	// execution ended. It is a no-op by design: setters race the end.
	ErrExecutionEnded = errors.New("querytracker: execution already ended")
	// ErrAlreadyRetired marks a second retirement of an execution handle.
	// The first retirement stands; the second is reported (logged, counted in
	// arbor_querytracker_double_retirements_total and in Dump).
	ErrAlreadyRetired = errors.New("querytracker: execution handle already retired")
	// ErrTrackerStopped is returned by Handle.Dump when the tracker actor has
	// stopped. Handle.Send never returns it: it logs and counts instead.
	ErrTrackerStopped = errors.New("querytracker: tracker is stopped")
)
