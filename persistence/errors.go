package persistence

import (
	"errors"
	"fmt"

	"github.com/arbor-db/arbor/timely"
)

// Sentinel errors. Backends wrap them with context; test with errors.Is.
var (
	// ErrClosed is returned by a Shard, Listener or Store used after Close.
	ErrClosed = errors.New("persistence: closed")
	// ErrInvalidUpdate means an update's time lies outside
	// [expectedUpper, newUpper) of its CompareAndAppend. Nothing is written.
	ErrInvalidUpdate = errors.New("persistence: update time outside [expectedUpper, newUpper)")
	// ErrInvalidUpper means newUpper is not strictly greater than
	// expectedUpper (which includes appending at a closed upper). Nothing is
	// written.
	ErrInvalidUpper = errors.New("persistence: newUpper must be greater than expectedUpper")
	// ErrInvalidShardName means a shard name is empty, too long, or has a
	// character outside [A-Za-z0-9._-].
	ErrInvalidShardName = errors.New("persistence: invalid shard name")
	// ErrCorrupt means bytes read from the backend do not decode. The shard
	// is unreadable until repaired; nothing is written by the failed call.
	// Returned wrapped in *CorruptError.
	ErrCorrupt = errors.New("persistence: corrupt shard data")
	// ErrTooLarge means an append does not fit in one backend transaction
	// (the etcd backend's request size limit).
	ErrTooLarge = errors.New("persistence: append too large for one transaction")
	// ErrDataDirInUse means a pebble data directory is already open, by this
	// process or another one. Only one process may own a data directory.
	ErrDataDirInUse = errors.New("persistence: data dir in use")
)

// UpperMismatchError is returned by CompareAndAppend when the shard's upper
// is not the expected one. Nothing was written. Current is the upper the
// backend saw when it refused the append; a caller that wants to retry
// syncs to Current first.
type UpperMismatchError struct {
	Expected timely.Frontier
	Current  timely.Frontier
}

// Error names both uppers.
func (e *UpperMismatchError) Error() string {
	return fmt.Sprintf("persistence: upper mismatch: expected %s, current %s", e.Expected, e.Current)
}

// SinceError is returned by a read (Snapshot, ReadRange, Listen,
// Listener.Next) at a time before the shard's since: that history has been
// compacted.
type SinceError struct {
	// AsOf is the time (or listen position) that was requested.
	AsOf timely.Frontier
	// Since is the shard's since when the read was refused.
	Since timely.Frontier
}

// Error names the requested time and the since.
func (e *SinceError) Error() string {
	return fmt.Sprintf("persistence: read at %s is before since %s: history compacted", e.AsOf, e.Since)
}

// NotYetReadableError is returned by Snapshot and ReadRange at a time the
// shard's upper has not passed yet: the data at AsOf is not complete. The
// caller may wait (Listen, WaitForUpper) and retry.
type NotYetReadableError struct {
	AsOf  timely.Timestamp
	Upper timely.Frontier
}

// Error names the requested time and the upper.
func (e *NotYetReadableError) Error() string {
	return fmt.Sprintf("persistence: snapshot at %s not yet readable: upper is %s", e.AsOf, e.Upper)
}

// CorruptError names stored bytes that failed to decode. errors.Is(err,
// ErrCorrupt) holds for it.
type CorruptError struct {
	// Shard is the shard's name; Key the backend key that held the bytes.
	Shard, Key string
	// Err says what was wrong.
	Err error
}

// Error names the shard, the key and the problem.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("persistence: shard %q: corrupt value at key %q: %v", e.Shard, e.Key, e.Err)
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the decoding error.
func (e *CorruptError) Unwrap() error { return e.Err }
