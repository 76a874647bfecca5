package instance

import "github.com/arbor-db/arbor/messages"

// The instance's errors. Each is coded (docs/conventions.md §2) and is
// wrapped with the object it concerns; a caller across an actor boundary
// receives it as messages.Error and matches it with errors.Is.
var (
	// ErrUnknownCollection: the named collection is not known to the
	// instance (never created, or dropped and cleaned up).
	ErrUnknownCollection = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "instance: unknown collection")
	// ErrCollectionDropped: the collection was dropped; it may still be
	// cleaning up.
	ErrCollectionDropped = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_DROPPED, "instance: collection dropped")
	// ErrCollectionExists: a dataflow exports, or a storage collection is
	// registered under, an id the instance already knows.
	ErrCollectionExists = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "instance: collection exists")
	// ErrInvalidDataflow: a dataflow description is incomplete (no as_of,
	// no export, an export importing itself).
	ErrInvalidDataflow = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "instance: invalid dataflow")
	// ErrAsOfCompacted: a dataflow's as_of is before the since of one of
	// its inputs, so it would read compacted data.
	ErrAsOfCompacted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_COMPACTED, "instance: as_of before an input's since")
	// ErrPeekCompacted: a peek's time is before its collection's since.
	ErrPeekCompacted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_COMPACTED, "instance: peek time before the since")
	// ErrPeekBeyondUntil: a peek's time is at or after the until of its
	// collection's dataflow, which produces nothing there.
	ErrPeekBeyondUntil = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "instance: peek time at or after the dataflow's until")
	// ErrPeekExists: a peek with that uuid is pending.
	ErrPeekExists = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "instance: peek exists")
	// ErrUnknownPeek: no pending peek has that uuid (it may have finished).
	ErrUnknownPeek = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "instance: unknown peek")
	// ErrPeekTimedOut: a peek's deadline passed before a replica answered.
	ErrPeekTimedOut = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_TIMEOUT, "instance: peek timed out")
	// ErrPeekCanceled: the peek was canceled by its client.
	ErrPeekCanceled = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_CANCELED, "instance: peek canceled")
	// ErrReplicaFailed ends a peek or subscribe whose target replica
	// failed or was removed.
	ErrReplicaFailed = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "instance: target replica failed or was dropped")
	// ErrStopped ends every peek and subscribe pending when the instance
	// stops.
	ErrStopped = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "instance: stopped")
	// ErrUnknownReplica: the named replica is not part of the instance.
	ErrUnknownReplica = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "instance: unknown replica")
	// ErrReplicaExists: a replica with that id is already part of the
	// instance.
	ErrReplicaExists = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "instance: replica exists")
	// ErrStaleResponse: a response answered an older epoch (environment or
	// incarnation) than the replica's current one; it is dropped.
	ErrStaleResponse = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_STALE_EPOCH, "instance: response from a stale epoch")
	// ErrUnknownHold: no read hold has that id (it was released).
	ErrUnknownHold = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "instance: unknown read hold")
	// ErrHoldRegression: a read hold may only move forward.
	ErrHoldRegression = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_REGRESSION, "instance: read hold would regress")
	// ErrFrontierRegression: a replica reported a frontier behind one it
	// reported before; the report is logged and ignored.
	ErrFrontierRegression = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_REGRESSION, "instance: frontier regression")
	// ErrMalformedResponse: a replica's response did not decode.
	ErrMalformedResponse = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_MALFORMED, "instance: malformed response")
)

// ErrCollectionInUse: a storage collection cannot be unregistered while a
// dataflow that is not dropped reads it.
var ErrCollectionInUse = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "instance: collection in use")
