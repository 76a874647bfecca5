package runtime

import "errors"

// Errors of the runtime, carried (as text) in Rt* responses and events.
var (
	// ErrInvalidCommand: a command that does not decode or names nothing
	// the runtime knows (unknown collection, source without schema, plan
	// that does not compile against its sources).
	ErrInvalidCommand = errors.New("runtime: invalid command")
	// ErrStorage: storage answered a read or subscription with an error.
	ErrStorage = errors.New("runtime: storage error")
	// ErrRestarted: the runtime restarted after its coordinator or pool
	// failed; it starts with no flows.
	ErrRestarted = errors.New("runtime: restarted")
)
