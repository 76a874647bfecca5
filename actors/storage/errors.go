package storage

import (
	"errors"
	"fmt"

	"github.com/arbor-db/arbor/messages"
)

// Errors of the package. Every error a request is answered with wraps one
// of them, with context naming the table, row, column or id involved; on
// the wire each is a messages.StorageErrorCode (ErrorToWire, ErrorFromWire).
var (
	// ErrMalformed: a request did not decode.
	ErrMalformed = errors.New("storage: malformed request")
	// ErrInvalidRow: a row does not match its table's schema.
	ErrInvalidRow = errors.New("storage: invalid row")
	// ErrUnknownTable: no table with that id was ever created.
	ErrUnknownTable = errors.New("storage: unknown table")
	// ErrTableDropped: the table was dropped.
	ErrTableDropped = errors.New("storage: table dropped")
	// ErrTableExists: a table with that id exists or existed.
	ErrTableExists = errors.New("storage: table already exists")
	// ErrCompacted: a read or hold before a table's since.
	ErrCompacted = errors.New("storage: time is before the since")
	// ErrNotYetReadable: a read at a time the upper has not passed.
	ErrNotYetReadable = errors.New("storage: time is not yet complete")
	// ErrDuplicateId: a subscription or read hold with that id exists.
	ErrDuplicateId = errors.New("storage: duplicate id")
	// ErrUnknownId: no subscription or read hold with that id.
	ErrUnknownId = errors.New("storage: unknown subscription or read hold")
	// ErrBackend: the persistence backend failed; a write's outcome is
	// unknown.
	ErrBackend = errors.New("storage: backend failure")
	// ErrHoldRegression: a read hold would move backwards.
	ErrHoldRegression = errors.New("storage: read hold would move backwards")
)

var codes = []struct {
	err  error
	code messages.StorageErrorCode
}{
	{ErrMalformed, messages.StorageErrorCode_STORAGE_ERROR_CODE_MALFORMED},
	{ErrInvalidRow, messages.StorageErrorCode_STORAGE_ERROR_CODE_INVALID_ROW},
	{ErrUnknownTable, messages.StorageErrorCode_STORAGE_ERROR_CODE_UNKNOWN_TABLE},
	{ErrTableDropped, messages.StorageErrorCode_STORAGE_ERROR_CODE_TABLE_DROPPED},
	{ErrTableExists, messages.StorageErrorCode_STORAGE_ERROR_CODE_TABLE_EXISTS},
	{ErrCompacted, messages.StorageErrorCode_STORAGE_ERROR_CODE_COMPACTED},
	{ErrNotYetReadable, messages.StorageErrorCode_STORAGE_ERROR_CODE_NOT_YET_READABLE},
	{ErrDuplicateId, messages.StorageErrorCode_STORAGE_ERROR_CODE_DUPLICATE_ID},
	{ErrUnknownId, messages.StorageErrorCode_STORAGE_ERROR_CODE_UNKNOWN_ID},
	{ErrBackend, messages.StorageErrorCode_STORAGE_ERROR_CODE_BACKEND},
	{ErrHoldRegression, messages.StorageErrorCode_STORAGE_ERROR_CODE_HOLD_REGRESSION},
}

// ErrorToWire encodes err for a response; nil for a nil err. An error that
// wraps none of the package's sentinels is sent with code UNSPECIFIED.
func ErrorToWire(err error) *messages.StorageError {
	if err == nil {
		return nil
	}
	w := &messages.StorageError{Message: err.Error()}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			w.Code = c.code
			break
		}
	}
	return w
}

// ErrorFromWire decodes a response's error; nil for nil. The result wraps
// the sentinel of its code (test it with errors.Is) and reads as the
// original message.
func ErrorFromWire(w *messages.StorageError) error {
	if w == nil {
		return nil
	}
	for _, c := range codes {
		if c.code == w.Code {
			return &wireError{sentinel: c.err, msg: w.Message}
		}
	}
	return &wireError{msg: w.Message}
}

// wireError is an error that came off the wire: the sender's message, and
// the sentinel of its code for errors.Is.
type wireError struct {
	sentinel error
	msg      string
}

// Error returns the sender's message.
func (e *wireError) Error() string { return e.msg }

// Unwrap returns the sentinel of the error's code (nil if unknown).
func (e *wireError) Unwrap() error { return e.sentinel }

// errorf wraps sentinel with a formatted context.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
