package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arbor-db/arbor/messages"
)

// Errors of the package. Every error a request is answered with wraps one
// of them, with context naming the table, row, column or id involved, and
// carries that object (messages.WithObject). On the wire each is a
// messages.Error of the sentinel's code (messages.ErrorToWire); a caller
// decodes it with messages.ErrorFromWire and tests it with errors.Is against
// these sentinels or the generic ones (messages.ErrNotFound, ...). Two
// sentinels of one code are not told apart on the wire: a received
// NOT_FOUND matches both ErrUnknownTable and ErrUnknownId.
var (
	// ErrMalformed: a request did not decode.
	ErrMalformed = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_MALFORMED, "storage: malformed request")
	// ErrInvalidRow: a row does not match its table's schema.
	ErrInvalidRow = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "storage: invalid row")
	// ErrUnknownTable: no table with that id was ever created.
	ErrUnknownTable = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "storage: unknown table")
	// ErrTableDropped: the table was dropped.
	ErrTableDropped = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_DROPPED, "storage: table dropped")
	// ErrTableExists: a table with that id exists or existed.
	ErrTableExists = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "storage: table already exists")
	// ErrCompacted: a read or hold before a table's since.
	ErrCompacted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_COMPACTED, "storage: time is before the since")
	// ErrNotYetReadable: a read at a time the upper has not passed.
	ErrNotYetReadable = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_YET_READABLE, "storage: time is not yet complete")
	// ErrDuplicateId: a subscription or read hold with that id exists.
	ErrDuplicateId = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "storage: duplicate id")
	// ErrUnknownId: no subscription or read hold with that id.
	ErrUnknownId = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "storage: unknown subscription or read hold")
	// ErrBackend: the persistence backend failed; a write's outcome is
	// unknown.
	ErrBackend = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_BACKEND, "storage: backend failure")
	// ErrTimeout: a backend call did not finish within Config.CallTimeout
	// (or, at start, Config.OpenTimeout); a write's outcome is unknown. The
	// error is a *TimeoutError naming the operation.
	ErrTimeout = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_TIMEOUT, "storage: timed out")
	// ErrStopping: the actor stopped (or is restarting) before it could
	// serve the request; nothing of it was written. Retry.
	ErrStopping = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "storage: the storage actor is stopping")
	// ErrWrongKind: a table named where a collection is needed, or the
	// other way round (StorageWrite to a collection, StorageAppend to a
	// table, a CDC subscription naming a collection).
	ErrWrongKind = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "storage: wrong kind of collection")
	// ErrAppendOnly: a write would retract a row (a negative diff) of an
	// append-only table (StorageCreateTable.append_only); nothing of the
	// write was applied.
	ErrAppendOnly = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "storage: table is append-only")
	// ErrUpperMismatch: a StorageAppend expected another upper than the
	// collection's; the answer carries the current upper.
	ErrUpperMismatch = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_REGRESSION, "storage: collection upper mismatch")
	// ErrHoldRegression: a read hold would move backwards.
	ErrHoldRegression = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_REGRESSION, "storage: read hold would move backwards")
	// ErrFenced: a newer writer owns the storage (a *FenceError names both
	// tokens); nothing of the refused write was written.
	ErrFenced = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_FENCED, "storage: fenced")
	// ErrReadOnly: the actor is read-only (its node awaits promotion);
	// nothing was written. Retry against the writer.
	ErrReadOnly = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "storage: read-only")
)

// TimeoutError is a backend call that passed its deadline. It matches
// ErrTimeout (and messages.ErrTimeout) under errors.Is.
type TimeoutError struct {
	// Op names the operation and its object: "append table u3".
	Op string
	// After is the deadline the call was given.
	After time.Duration
	// Err is what the backend returned.
	Err error
}

// Error reads "storage: append table u3: timed out after 10s".
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("storage: %s: timed out after %s", e.Op, e.After)
}

// Unwrap returns ErrTimeout and the backend's error.
func (e *TimeoutError) Unwrap() []error { return []error{ErrTimeout, e.Err} }

// backendError classifies the failure of a backend call made under ctx,
// whose deadline was after: a passed deadline is a *TimeoutError naming op,
// anything else wraps ErrBackend. nil stays nil. op names the operation
// and its object ("append table u3").
func backendError(ctx context.Context, after time.Duration, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{Op: op, After: after, Err: err}
	}
	return fmt.Errorf("%w: %s: %w", ErrBackend, op, err)
}

// outcomeUnknown reports whether err leaves a durable write's outcome
// unknown: a backend failure or a timeout.
func outcomeUnknown(err error) bool {
	return errors.Is(err, ErrBackend) || errors.Is(err, ErrTimeout)
}

// errorf wraps sentinel with a formatted context.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// onTable attaches table id to err as the object it concerns.
func onTable(id fmt.Stringer, err error) error {
	return messages.WithObject(err, "table "+id.String())
}

// onHold attaches read hold (or subscription) id to err.
func onHold(what, id string, err error) error {
	return messages.WithObject(err, what+" "+id)
}
