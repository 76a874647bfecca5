package node

import (
	"errors"

	"github.com/arbor-db/arbor/messages"
)

var (
	// ErrBadConfig wraps every configuration error: a bad flag, config
	// file or value, found by ParseConfig or, for an address that does not
	// parse, by Start.
	ErrBadConfig = errors.New("bad configuration")

	// errStoresClosed refuses a replica launch that races the node's stop.
	errStoresClosed = errors.New("node: stopping, replica stores closed")
)

// Errors of a runtime host (runtime_host.go), sent to the launcher that
// configures it as ClusterRuntimeSetupResponse.error.
var (
	// ErrBadSetup: a ClusterRuntimeSetup misses or garbles a field, or
	// names another incarnation than the one the host runs.
	ErrBadSetup = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "node: bad runtime setup")
	// ErrSetupNotMember: a ClusterRuntimeSetup came from, or names a
	// storage actor on, a node that is not an environment member up in
	// this node's membership view.
	ErrSetupNotMember = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "node: runtime setup from outside the cluster")
	// ErrRuntimeOutputs: the runtime's outputs store could not be opened.
	ErrRuntimeOutputs = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_BACKEND, "node: replica outputs")
)
