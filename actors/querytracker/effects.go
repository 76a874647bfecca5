package querytracker

import (
	"fmt"

	"github.com/arbor-db/arbor/timely"
)

// Effects is everything the tracker does to the outside world. The actor
// calls it from its Receive, so implementations must not block: send a
// message, bump a counter, return. The tracker never calls it concurrently.
type Effects interface {
	// CancelComputePeek asks the cluster's instance to cancel a peek. It is
	// best effort: the peek may not have been issued yet, may have finished,
	// or the cluster may be gone.
	CancelComputePeek(cluster timely.ClusterId, uuid timely.Uuid, reason CancelReason)
	// InstallWatchSet installs a peek's watch set. An error (typically a
	// dependency dropped concurrently) makes the tracker drop the peek, end
	// its execution with an error and cancel its compute peek.
	InstallWatchSet(execution ExecutionId, ws WatchSet) error
	// EndExecution reports that a statement execution ended. It is called
	// exactly once per execution the tracker knows, whoever ended it.
	EndExecution(execution ExecutionId, reason EndReason)
	// CountCanceledPeeks counts n peeks canceled for reason.
	CountCanceledPeeks(reason CancelReason, n int)
}

// CancelReason says why the tracker canceled a peek; it is the label of
// arbor_querytracker_canceled_peeks_total.
type CancelReason uint8

const (
	// ReasonConnection: CancelConn (client cancel, terminate, timeout).
	ReasonConnection CancelReason = iota + 1
	// ReasonDropped: the peek's cluster or a dependency was dropped, now or
	// within the tombstone TTL before the peek was tracked.
	ReasonDropped
	// ReasonWatchSetFailed: installing the peek's watch set failed.
	ReasonWatchSetFailed
	// ReasonExecutionEnded: the peek's execution had already ended (before
	// the peek was tracked, or by EndExecution while it was).
	ReasonExecutionEnded
	// ReasonRejected: the TrackPeek was invalid or conflicted with another
	// peek of the same execution, or the tracker abandoned its state
	// (restart or stop).
	ReasonRejected
)

// CancelReasons lists every reason, for metrics and tests.
var CancelReasons = []CancelReason{ReasonConnection, ReasonDropped, ReasonWatchSetFailed, ReasonExecutionEnded, ReasonRejected}

// String returns the metric label of the reason.
func (r CancelReason) String() string {
	switch r {
	case ReasonConnection:
		return "connection"
	case ReasonDropped:
		return "dropped"
	case ReasonWatchSetFailed:
		return "watch_set_failed"
	case ReasonExecutionEnded:
		return "execution_ended"
	case ReasonRejected:
		return "rejected"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}
