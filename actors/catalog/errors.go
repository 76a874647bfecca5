package catalog

import (
	"errors"
	"fmt"
)

// Sentinel errors of the guardian. Errors from the catalog itself
// (durable.ErrFenced, durable.ErrNotFound, ...) are passed through unchanged
// in the responses.
var (
	// ErrInvalidConfig means Props was given a Config it cannot run with.
	ErrInvalidConfig = errors.New("catalog guardian: invalid config")
	// ErrHalted means the guardian stopped serving for good after a
	// non-fence fatal error at open (an incompatible catalog version). The
	// response wraps the cause.
	ErrHalted = errors.New("catalog guardian: halted")
	// ErrUnknownRequest answers a message the guardian does not serve.
	ErrUnknownRequest = errors.New("catalog guardian: unknown request")
	// ErrApplyPanicked answers a Transact whose Apply panicked; the
	// transaction was aborted and the guardian carries on.
	ErrApplyPanicked = errors.New("catalog guardian: transaction function panicked")
)

// TransientFailure is the reason the guardian fails (panics) with after a
// backend error whose outcome is unknown. Its supervisor restarts it; the new
// incarnation backs off, then reopens the catalog.
type TransientFailure struct{ Err error }

// Error names the backend error.
func (f *TransientFailure) Error() string {
	return fmt.Sprintf("catalog guardian: transient backend failure: %v", f.Err)
}

// Unwrap returns the backend error.
func (f *TransientFailure) Unwrap() error { return f.Err }
