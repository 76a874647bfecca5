package runtime

import "github.com/arbor-db/arbor/messages"

// Errors of the runtime. They travel in ComputeStatus and
// ComputePeekResponse as messages.Error with the code given here.
var (
	// ErrInvalidCommand: a command that does not decode or names nothing
	// the runtime knows (unknown collection, source without schema, plan
	// that does not compile against its sources).
	ErrInvalidCommand = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "runtime: invalid command")
	// ErrUnknownCollection: a command names a collection no installed
	// dataflow exports.
	ErrUnknownCollection = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "runtime: unknown collection")
	// ErrAlreadyInstalled: a CreateDataflow exports a collection that is
	// already installed in the same connection.
	ErrAlreadyInstalled = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_ALREADY_EXISTS, "runtime: collection already installed")
	// ErrOutOfStage: a command the current stage does not accept (a
	// CreateDataflow before CreateInstance, a second CreateInstance, any
	// command before Hello).
	ErrOutOfStage = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "runtime: command out of stage")
	// ErrStaleEpoch: a command from an older controller connection than
	// the current one.
	ErrStaleEpoch = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_STALE_EPOCH, "runtime: command from a stale epoch")
	// ErrStorage: storage answered a read or subscription with an error.
	ErrStorage = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_BACKEND, "runtime: storage error")
	// ErrStorageTimeout: storage did not answer within
	// Config.StorageTimeout.
	ErrStorageTimeout = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_TIMEOUT, "runtime: storage timed out")
	// ErrSubscriptionLost: storage refused the runtime's change-data
	// subscription Config.SubscribeRetries+1 times in a row; nothing
	// advances, and the controller treats the replica as failed.
	ErrSubscriptionLost = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "runtime: change-data subscription lost")
	// ErrCompacted: a peek below the collection's compaction frontier.
	ErrCompacted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_COMPACTED, "runtime: peek time compacted")
	// ErrBeyondUntil: a peek at or after the until of the collection's
	// dataflow, where it produces nothing.
	ErrBeyondUntil = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "runtime: peek beyond the dataflow's until")
	// ErrDropped: the collection a peek or subscribe read was dropped.
	ErrDropped = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_DROPPED, "runtime: collection dropped")
	// ErrFlow: a flow failed (a read, a registration, a batch).
	ErrFlow = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INTERNAL, "runtime: flow failed")
	// ErrRestarted: the runtime restarted after its coordinator or pool
	// failed; it starts with no flows.
	ErrRestarted = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "runtime: restarted")
)
