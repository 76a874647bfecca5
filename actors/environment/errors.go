package environment

import (
	"errors"
	"fmt"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
)

// Errors of the environment. Every error a client receives wraps one of
// them (or a catalog or storage error mapped onto the same codes) with
// context naming the object, row or column involved.
var (
	// ErrInvalidConfig: New was given a Config it cannot run with.
	ErrInvalidConfig = errors.New("environment: invalid config")

	// ErrUnknownSession: a request named a connection id with no session.
	ErrUnknownSession = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "environment: unknown session")
	// ErrUnknownObject: a request named an object the catalog does not hold.
	ErrUnknownObject = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "environment: unknown object")
	// ErrObjectExists: a create named an object that exists.
	ErrObjectExists = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "environment: object already exists")
	// ErrInvalidRequest: a request is malformed or does not make sense (an
	// empty name, a key column that is not a column, a plan that does not
	// type-check, a write to something that is not a table).
	ErrInvalidRequest = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "environment: invalid request")
	// ErrInvalidRow: a written row does not fit its table's schema.
	ErrInvalidRow = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "environment: invalid row")
	// ErrAppendOnly: a write deletes or updates rows of an append-only
	// table, or a plan declares a source append-only that is not; nothing
	// of the write was applied.
	ErrAppendOnly = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "environment: table is append-only")
	// ErrTooLarge: a request or a result exceeds the configured size.
	ErrTooLarge = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "environment: too large")
	// ErrNeedsCompute: the operation needs the compute controller, which
	// this build does not start yet.
	ErrNeedsCompute = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "environment: views and indexes need the compute controller, which this build does not start yet")
	// ErrStarting: the environment is still bootstrapping and its queue of
	// waiting requests is full.
	ErrStarting = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "environment: starting")
	// ErrReadOnly: the environment is read-only, awaiting promotion
	// (readonly.go); clients should use the serving environment.
	ErrReadOnly = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "environment: read-only")
	// ErrStatementTimeout: a statement ran past its session's statement
	// timeout and was canceled.
	ErrStatementTimeout = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_TIMEOUT, "environment: canceling statement due to statement timeout")
	// ErrCanceled: a statement was canceled (client cancel, disconnect,
	// or a drop of what it reads).
	ErrCanceled = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_CANCELED, "environment: statement canceled")
	// ErrCompacted: a peek asked for a time before the collection's since.
	ErrCompacted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_COMPACTED, "environment: time is before the since")
	// ErrInternal: a broken invariant or an answer of an unexpected type
	// from a peer.
	ErrInternal = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "environment: internal error")
)

// codedError is an error from a package whose sentinels may carry no
// code, given the code the client should see.
type codedError struct {
	code messages.ErrorCode
	err  error
}

func (e *codedError) Error() string            { return e.err.Error() }
func (e *codedError) Unwrap() error            { return e.err }
func (e *codedError) Code() messages.ErrorCode { return e.code }

// Is matches every messages.Sentinel of the error's code, as a received
// wire error does.
func (e *codedError) Is(target error) bool {
	s, ok := target.(*messages.Sentinel)
	return ok && s.Code() == e.code
}

func withCode(code messages.ErrorCode, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// storageError decodes an error in a storage response: a coded
// messages.Error that errors.Is matches against every sentinel of its code.
func storageError(w *messages.Error) error {
	return messages.ErrorFromWire(w)
}

// catalogError gives an error from the catalog guardian its wire code: the
// code it already carries, else the code of its durable sentinel.
func catalogError(err error) error {
	if err == nil || messages.CodeOf(err) != messages.ErrorCode_ERROR_CODE_UNSPECIFIED {
		return err
	}
	code := messages.ErrorCode_ERROR_CODE_INTERNAL
	switch {
	case errors.Is(err, durable.ErrAlreadyExists):
		code = messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS
	case errors.Is(err, durable.ErrNotFound):
		code = messages.ErrorCode_ERROR_CODE_NOT_FOUND
	case errors.Is(err, durable.ErrInvalid), errors.Is(err, durable.ErrInUse):
		code = messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT
	case errors.Is(err, durable.ErrFenced):
		code = messages.ErrorCode_ERROR_CODE_FENCED
	case errors.Is(err, durable.ErrBackend):
		code = messages.ErrorCode_ERROR_CODE_BACKEND
	case errors.Is(err, durable.ErrStaleTransaction), errors.Is(err, durable.ErrReadOnly):
		code = messages.ErrorCode_ERROR_CODE_UNAVAILABLE
	}
	return withCode(code, err)
}

// errorf wraps a sentinel with context.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
