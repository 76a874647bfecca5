package replica

import "github.com/arbor-db/arbor/messages"

var (
	// ErrRuntimeTerminated: the replica's runtime stopped, or its node
	// became unreachable.
	ErrRuntimeTerminated = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "replica: runtime terminated")
	// ErrRuntimeRestarted: the replica's runtime restarted after a
	// failure and lost its dataflows; the replica is relaunched.
	ErrRuntimeRestarted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "replica: runtime restarted empty")
	// ErrLaunchFailed: the Launcher could not start a runtime.
	ErrLaunchFailed = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "replica: launch failed")
)
