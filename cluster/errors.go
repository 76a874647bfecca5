package cluster

import "github.com/arbor-db/arbor/messages"

var (
	// ErrNoComputeMember: no live member has the compute role, so a
	// replica cannot be placed. Retry after a compute node joins.
	ErrNoComputeMember = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cluster: no compute member to place a replica on")
	// ErrRejoin: a member id that left was reported up again. protoactor
	// blocks a departed id for good, so a restarted node must come back
	// under a new id; the view keeps the id departed.
	ErrRejoin = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "cluster: departed member reported up again")
	// ErrUnknownMember: an event names a member the view does not hold.
	ErrUnknownMember = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "cluster: unknown member")
	// ErrConfig: a Config or MembershipConfig is incomplete or malformed.
	ErrConfig = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "cluster: bad config")
	// ErrStart: protoactor could not start the cluster member.
	ErrStart = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cluster: start member")
	// ErrSpawn: the remote spawn of a replica runtime failed.
	ErrSpawn = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cluster: remote spawn")
)
