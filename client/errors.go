package client

import (
	"errors"
	"strings"

	"github.com/arbor-db/arbor/messages"
)

// Errors a Client returns. Every error from the environment is an *Error
// and matches, under errors.Is, the sentinel of its kind below.
var (
	// ErrNotFound: the named object (or the session) does not exist.
	ErrNotFound = messages.ErrNotFound
	// ErrAlreadyExists: a create named an object that exists.
	ErrAlreadyExists = messages.ErrAlreadyExists
	// ErrInvalidArgument: the request is not valid: a bad name, a schema
	// or filter that does not check, a row that does not fit, a request
	// or result over the size limit.
	ErrInvalidArgument = messages.ErrInvalidArgument
	// ErrInvalidRow: a written row does not fit its table's schema. Such
	// an error also matches ErrInvalidArgument.
	ErrInvalidRow = errors.New("client: invalid row")
	// ErrCanceled: the statement was canceled (Cancel, a drop of what it
	// read, the session's end) or the caller's context was canceled.
	ErrCanceled = messages.ErrCanceled
	// ErrTimeout: the statement ran past its statement timeout, or the
	// caller's context deadline passed first. The outcome of a write that
	// timed out is unknown.
	ErrTimeout = messages.ErrTimeout
	// ErrCompacted: a peek asked for a time before the collection's since.
	ErrCompacted = messages.ErrCompacted
	// ErrNotYetReadable: AsOf names a time the collection is not complete
	// at yet; retrying later may succeed.
	ErrNotYetReadable = messages.ErrNotYetReadable
	// ErrUnavailable: the environment cannot serve the request now
	// (starting) or in this build (views, indexes and other operations
	// that need the compute controller), or it is unreachable.
	ErrUnavailable = messages.ErrUnavailable
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("client: closed")
)

// Error is an error the environment answered with.
type Error struct {
	// Code classifies the error.
	Code messages.ErrorCode
	// Message names the object and the problem.
	Message string
	// Object is the object concerned, when the environment names one.
	Object string
}

// Error returns the environment's message.
func (e *Error) Error() string { return e.Message }

// Is matches the sentinel of the error's code (ErrNotFound, ...), and
// ErrInvalidRow for an invalid argument that is a row.
func (e *Error) Is(target error) bool {
	if target == ErrInvalidRow {
		return e.Code == messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT && strings.Contains(e.Message, "invalid row")
	}
	return (&messages.RemoteError{Code: e.Code, Message: e.Message}).Is(target)
}

func fromWire(w *messages.Error) error {
	if w == nil {
		return nil
	}
	return &Error{Code: w.GetCode(), Message: w.GetMessage(), Object: w.GetObject()}
}
