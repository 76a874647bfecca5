package messages

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Coded errors. Every Arbor protocol carries its errors as one wire type,
// Error{code, message, object}; on the Go side a package declares its
// sentinel errors with NewSentinel, giving each an ErrorCode, and wraps them
// with context (fmt.Errorf("%w: ...", ErrUnknownTable)). ErrorToWire finds
// the code in an error's chain; ErrorFromWire turns a received Error back
// into a Go error that errors.Is matches against every sentinel of its code
// and against the generic sentinels below (ErrNotFound, ErrTimeout, ...).

// Sentinel is a sentinel error with a wire code. Compare with errors.Is.
type Sentinel struct {
	code    ErrorCode
	text    string
	generic bool
}

// NewSentinel declares a package's sentinel error with its wire code.
func NewSentinel(code ErrorCode, text string) *Sentinel {
	return &Sentinel{code: code, text: text}
}

// Error returns the sentinel's text.
func (s *Sentinel) Error() string { return s.text }

// Code returns the sentinel's wire code.
func (s *Sentinel) Code() ErrorCode { return s.code }

// Is reports whether target is the generic sentinel of s's code, so that
// errors.Is(storage.ErrUnknownTable, messages.ErrNotFound) holds.
func (s *Sentinel) Is(target error) bool {
	t, ok := target.(*Sentinel)
	return ok && t.generic && t.code == s.code
}

func generic(code ErrorCode, text string) *Sentinel {
	return &Sentinel{code: code, text: text, generic: true}
}

// Generic sentinels, one per code. Every coded error, local or received
// from the wire, matches the one of its code under errors.Is.
var (
	ErrInvalidArgument = generic(ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid argument")
	ErrNotFound        = generic(ErrorCode_ERROR_CODE_NOT_FOUND, "not found")
	ErrAlreadyExists   = generic(ErrorCode_ERROR_CODE_ALREADY_EXISTS, "already exists")
	ErrDropped         = generic(ErrorCode_ERROR_CODE_DROPPED, "dropped")
	ErrCompacted       = generic(ErrorCode_ERROR_CODE_COMPACTED, "compacted")
	ErrNotYetReadable  = generic(ErrorCode_ERROR_CODE_NOT_YET_READABLE, "not yet readable")
	ErrBackend         = generic(ErrorCode_ERROR_CODE_BACKEND, "backend failure")
	ErrTimeout         = generic(ErrorCode_ERROR_CODE_TIMEOUT, "timed out")
	ErrUnknownMessage  = generic(ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "unknown message")
	ErrFenced          = generic(ErrorCode_ERROR_CODE_FENCED, "fenced")
	ErrStaleEpoch      = generic(ErrorCode_ERROR_CODE_STALE_EPOCH, "stale epoch")
	ErrCanceled        = generic(ErrorCode_ERROR_CODE_CANCELED, "canceled")
	ErrUnavailable     = generic(ErrorCode_ERROR_CODE_UNAVAILABLE, "unavailable")
	ErrRegression      = generic(ErrorCode_ERROR_CODE_REGRESSION, "regression")
	ErrInternal        = generic(ErrorCode_ERROR_CODE_INTERNAL, "internal error")
)

// malformedCode gives ErrMalformed (declared in convert.go, older than the
// codes) its wire code.
var malformedCode = ErrorCode_ERROR_CODE_MALFORMED

// objectError attaches the object an error concerns.
type objectError struct {
	object string
	err    error
}

func (e *objectError) Error() string { return e.err.Error() }
func (e *objectError) Unwrap() error { return e.err }

// WithObject records the object err concerns ("table u7"); ErrorToWire
// puts it in Error.object. The message is unchanged. nil stays nil.
func WithObject(err error, object string) error {
	if err == nil {
		return nil
	}
	return &objectError{object: object, err: err}
}

// CodeOf returns the wire code of err: the code of the first coded error in
// its chain; TIMEOUT for a context deadline, CANCELED for a canceled
// context; UNSPECIFIED for nil or an uncoded error.
func CodeOf(err error) ErrorCode {
	if err == nil {
		return ErrorCode_ERROR_CODE_UNSPECIFIED
	}
	var c interface{ Code() ErrorCode }
	if errors.As(err, &c) {
		return c.Code()
	}
	var re *RemoteError
	if errors.As(err, &re) { // forwarded: keep the sender's code
		return re.Code
	}
	switch {
	case errors.Is(err, ErrMalformed):
		return malformedCode
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorCode_ERROR_CODE_TIMEOUT
	case errors.Is(err, context.Canceled):
		return ErrorCode_ERROR_CODE_CANCELED
	}
	return ErrorCode_ERROR_CODE_UNSPECIFIED
}

// ErrorToWire encodes err for a response; nil for nil. The code comes from
// CodeOf (INTERNAL when err carries none: an uncoded error is a bug to
// fix), the object from WithObject, the message is err's text.
func ErrorToWire(err error) *Error {
	if err == nil {
		return nil
	}
	code := CodeOf(err)
	if code == ErrorCode_ERROR_CODE_UNSPECIFIED {
		code = ErrorCode_ERROR_CODE_INTERNAL
	}
	w := &Error{Code: code, Message: err.Error()}
	var o *objectError
	var re *RemoteError
	switch {
	case errors.As(err, &o):
		w.Object = o.object
	case errors.As(err, &re):
		w.Object = re.Object
	}
	return w
}

// ErrorFromWire decodes a received Error; nil for nil. The result reads as
// the sender's message and matches, under errors.Is, every sentinel of its
// code (local package sentinels and the generic ones).
func ErrorFromWire(w *Error) error {
	if w == nil {
		return nil
	}
	return &RemoteError{Code: w.GetCode(), Message: w.GetMessage(), Object: w.GetObject()}
}

// RemoteError is an error received on the wire.
type RemoteError struct {
	Code    ErrorCode
	Message string
	Object  string
}

// Error returns the sender's message.
func (e *RemoteError) Error() string {
	if e.Message == "" {
		return strings.ToLower(strings.TrimPrefix(e.Code.String(), "ERROR_CODE_"))
	}
	return e.Message
}

// Is matches every Sentinel of the error's code, and ErrMalformed for
// MALFORMED.
func (e *RemoteError) Is(target error) bool {
	if s, ok := target.(*Sentinel); ok {
		return s.code == e.Code
	}
	return target == ErrMalformed && e.Code == malformedCode
}

// Unknown returns the reply to a request of a type the receiver does not
// handle; name is the request's type.
func Unknown(name string) *UnknownMessageReply {
	return &UnknownMessageReply{Type: name, Error: &Error{
		Code:    ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE,
		Message: fmt.Sprintf("unknown message: the receiver does not handle %s", name),
	}}
}
