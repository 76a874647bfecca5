package replica

import "github.com/arbor-db/arbor/messages"

var (
	// ErrRuntimeTerminated: the replica's runtime stopped, or its node
	// became unreachable.
	ErrRuntimeTerminated = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "replica: runtime terminated")
	// ErrLaunchFailed: the Launcher could not start a runtime.
	ErrLaunchFailed = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "replica: launch failed")
)
