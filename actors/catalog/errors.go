package catalog

import (
	"fmt"

	"github.com/arbor-db/arbor/messages"
)

// Sentinel errors of the guardian. Errors from the catalog itself
// (durable.ErrFenced, durable.ErrNotFound, ...) are passed through unchanged
// in the responses.
var (
	// ErrInvalidConfig means New was given a Config it cannot run with.
	ErrInvalidConfig = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "catalog guardian: invalid config")
	// ErrHalted means the guardian stopped serving for good after a
	// non-fence fatal error at open (an incompatible catalog version). The
	// response wraps the cause.
	ErrHalted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "catalog guardian: halted")
	// ErrApplyPanicked answers a Transact whose Apply panicked; the
	// transaction was aborted and the guardian carries on.
	ErrApplyPanicked = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "catalog guardian: transaction function panicked")
	// ErrIllegalTransition means the Core was fed an event its phase does
	// not allow: a broken invariant.
	ErrIllegalTransition = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "catalog guardian: illegal phase transition")
	// ErrNotPromotable answers Promote to a guardian that is not read-only
	// awaiting promotion (its catalog is open writable, or it has no
	// Config.Promote).
	ErrNotPromotable = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "catalog guardian: not promotable")
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
