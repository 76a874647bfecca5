package durable

import "fmt"

// Mode says what an open handle may do to durable state.
type Mode int

const (
	// Writable: opening fences every earlier writer by appending a larger
	// fence token, and commits are durable.
	Writable Mode = iota
	// Savepoint: opening and commits change the handle's in-memory state
	// only; nothing is written and nobody is fenced. Writes vanish when the
	// handle is dropped. For dry runs of upgrades.
	Savepoint
	// ReadOnly: nothing is ever written; commits of empty transactions
	// succeed, others fail with ErrReadOnly. For tools that inspect a live
	// catalog without disturbing its writer.
	ReadOnly
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case Writable:
		return "writable"
	case Savepoint:
		return "savepoint"
	case ReadOnly:
		return "read-only"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}
