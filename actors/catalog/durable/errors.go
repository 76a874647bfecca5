package durable

import (
	"errors"
	"fmt"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Sentinel errors. Every error the catalog returns wraps one of these or is
// one of the typed errors below; test with errors.Is / errors.As. Each has
// a wire code (messages.NewSentinel), so it also matches the generic
// sentinel of its code (errors.Is(err, messages.ErrNotFound)).
var (
	// ErrFenced is wrapped by every *FenceError: a newer writer owns the
	// catalog and this handle may never write again.
	ErrFenced = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_FENCED, "catalog: fenced")
	// ErrIncompatibleVersion means the catalog was written by a newer (or a
	// no longer supported older) catalog version than this build. Returned
	// wrapped in *VersionError.
	ErrIncompatibleVersion = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "catalog: incompatible catalog version")
	// ErrCorrupt means bytes read from the catalog shard do not decode into
	// a catalog entry (bad protobuf, unknown kind, key and value disagreeing).
	// Nothing was applied.
	ErrCorrupt = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "catalog: corrupt catalog update")
	// ErrInconsistent means a batch of updates cannot be applied to the
	// catalog state: a retraction of a value that is not there, an insert
	// over a value that was not retracted first, a diff other than ±1.
	// Nothing was applied.
	ErrInconsistent = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "catalog: inconsistent catalog update")
	// ErrReadOnly means a write was attempted through a read-only handle.
	ErrReadOnly = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "catalog: read-only handle")
	// ErrStaleTransaction means a transaction began at an upper that is no
	// longer the catalog's: someone else committed in between. Nothing was
	// written; begin a new transaction.
	ErrStaleTransaction = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "catalog: transaction is stale")
	// ErrBackend wraps errors from the shard that are neither fencing nor an
	// upper mismatch (I/O, context, closed). For a commit the outcome is
	// unknown; the handle resyncs on its next call. These are transient:
	// the guardian restarts with backoff on them.
	ErrBackend = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_BACKEND, "catalog: backend error")
	// ErrNotFound means an operation named an object the catalog does not
	// hold.
	ErrNotFound = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "catalog: not found")
	// ErrAlreadyExists means an operation would create an object whose id or
	// name is taken.
	ErrAlreadyExists = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "catalog: already exists")
	// ErrInvalid means an operation's arguments are malformed (missing id,
	// empty name, unspecified type, dangling dependency).
	ErrInvalid = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "catalog: invalid operation")
	// ErrInUse means an object cannot be dropped because another depends on
	// it.
	ErrInUse = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "catalog: object in use")
	// ErrTransactionDone means a transaction was used after Commit or
	// Abort.
	ErrTransactionDone = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "catalog: transaction already finished")
	// ErrIllegalTransition means the FenceableToken was asked to make a
	// transition its state machine does not allow: a broken invariant.
	ErrIllegalTransition = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "catalog: illegal fence token transition")
)

// FenceKind says why a handle was fenced. Kinds are ordered: a
// DeployGeneration fence is "stronger" than an Epoch fence, which is
// stronger than a MigrationUpper fence.
type FenceKind int

const (
	// FenceDeployGeneration: a writer with a higher deploy generation owns
	// the catalog (an upgrade took over).
	FenceDeployGeneration FenceKind = iota + 1
	// FenceEpoch: a writer of the same (or lower) deploy generation opened
	// the catalog after this one.
	FenceEpoch
	// FenceMigrationUpper: the version shard moved while this handle was
	// migrating it: a newer build is opening the catalog.
	FenceMigrationUpper
)

// String returns the kind's name.
func (k FenceKind) String() string {
	switch k {
	case FenceDeployGeneration:
		return "deploy generation"
	case FenceEpoch:
		return "epoch"
	case FenceMigrationUpper:
		return "migration upper"
	}
	return fmt.Sprintf("FenceKind(%d)", int(k))
}

// FenceError says that this handle lost ownership of the catalog. It is
// final: every later call on the handle returns it again, and nothing the
// handle tries to write becomes durable. errors.Is(err, ErrFenced) holds.
type FenceError struct {
	Kind FenceKind
	// Current is this handle's token; Fence the larger token that fenced it
	// (zero for FenceMigrationUpper).
	Current, Fence FenceToken
	// ExpectedUpper and ActualUpper are the version shard's uppers for
	// FenceMigrationUpper.
	ExpectedUpper, ActualUpper timely.Frontier
}

// Error names both tokens (or, for MigrationUpper, both uppers).
func (e *FenceError) Error() string {
	switch e.Kind {
	case FenceDeployGeneration:
		return fmt.Sprintf("catalog: fenced by deploy generation: this writer holds %s, the catalog holds %s", e.Current, e.Fence)
	case FenceEpoch:
		return fmt.Sprintf("catalog: fenced by epoch: this writer holds %s, the catalog holds %s", e.Current, e.Fence)
	case FenceMigrationUpper:
		return fmt.Sprintf("catalog: fenced during version migration: version shard upper expected %s, found %s", e.ExpectedUpper, e.ActualUpper)
	}
	return fmt.Sprintf("catalog: fenced (%s): this writer holds %s, the catalog holds %s", e.Kind, e.Current, e.Fence)
}

// Is reports whether target is ErrFenced (or messages.ErrFenced).
func (e *FenceError) Is(target error) bool {
	return target == ErrFenced || errors.Is(ErrFenced, target)
}

// Code is FENCED.
func (e *FenceError) Code() messages.ErrorCode { return ErrFenced.Code() }

// VersionError refuses to open a catalog whose version this build cannot
// read. errors.Is(err, ErrIncompatibleVersion) holds.
type VersionError struct {
	// Durable is the version recorded in the version shard; Build the
	// version of this build; MinSupported the oldest it can migrate from.
	Durable, Build, MinSupported uint64
}

// Error names both versions.
func (e *VersionError) Error() string {
	if e.Durable > e.Build {
		return fmt.Sprintf("catalog: written by newer catalog version %d, this build understands up to %d", e.Durable, e.Build)
	}
	return fmt.Sprintf("catalog: catalog version %d is older than the oldest this build can migrate from (%d)", e.Durable, e.MinSupported)
}

// Is reports whether target is ErrIncompatibleVersion (or the generic
// sentinel of its code).
func (e *VersionError) Is(target error) bool {
	return target == ErrIncompatibleVersion || errors.Is(ErrIncompatibleVersion, target)
}

// Code is the code of ErrIncompatibleVersion.
func (e *VersionError) Code() messages.ErrorCode { return ErrIncompatibleVersion.Code() }
