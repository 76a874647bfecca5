package querytracker

import (
	"time"

	"github.com/arbor-db/arbor/timely"
)

// Command is one of the tracker's commands, in its Go form. In-process
// callers send these through a Handle; the actor also accepts their protobuf
// forms (messages.Qt*), which it decodes into these first.
type Command interface {
	// apply runs the command against the state machine.
	apply(t *Tracker, now time.Time) error
}

// WatchSet asks to be told when each object's upper passes Timestamp; the
// tracker installs it through Effects when the peek is tracked.
type WatchSet struct {
	Objects   []timely.GlobalId
	Timestamp timely.Timestamp
}

// TrackPeek starts tracking a peek. Send it before issuing the compute peek.
// The tracker now owns Execution: it retires it exactly once, whatever
// happens to the peek.
type TrackPeek struct {
	Uuid      timely.Uuid
	Conn      timely.ConnectionId
	Cluster   timely.ClusterId
	DependsOn []timely.GlobalId
	Execution ExecutionId
	Strategy  Strategy
	// WatchSet is optional.
	WatchSet *WatchSet
}

// UntrackPeek forgets a peek the caller finished itself (its issue failed);
// its execution ends as aborted. No compute cancel is sent.
type UntrackPeek struct {
	Uuid timely.Uuid
}

// CancelConn cancels every tracked peek of a connection and ends every live
// execution of it as canceled, including executions begun but not yet
// tracked (cancel-before-track).
type CancelConn struct {
	Conn timely.ConnectionId
}

// CancelByDrop cancels every peek on a dropped cluster or depending on a
// dropped collection, and leaves tombstones so that a peek tracked later is
// canceled at once. The maps hold display names, e.g. `cluster "c1"`.
type CancelByDrop struct {
	Collections map[timely.GlobalId]string
	Clusters    map[timely.ClusterId]string
}

// ObservePeekNotification reports a peek's outcome from compute. A uuid that
// is not tracked (late, duplicate or unknown) is ignored.
type ObservePeekNotification struct {
	Uuid         timely.Uuid
	Notification Notification
}

// BeginExecution records an execution before any peek of it is tracked, so
// that a CancelConn arriving first cancels it. Optional: TrackPeek begins an
// unknown execution itself.
type BeginExecution struct {
	Execution ExecutionId
	Conn      timely.ConnectionId
}

// SetExecutionCluster records the cluster of a live execution; after the end
// it is a no-op.
type SetExecutionCluster struct {
	Execution ExecutionId
	Cluster   timely.ClusterId
}

// SetExecutionTimestamp records the read timestamp of a live execution;
// after the end it is a no-op.
type SetExecutionTimestamp struct {
	Execution ExecutionId
	Timestamp timely.Timestamp
}

// EndExecution retires an execution the caller finished itself. A peek of it
// that is still tracked is dropped and its compute peek canceled.
type EndExecution struct {
	Execution ExecutionId
	Reason    EndReason
}

func (c TrackPeek) apply(t *Tracker, now time.Time) error   { return t.TrackPeek(now, c) }
func (c UntrackPeek) apply(t *Tracker, now time.Time) error { return t.UntrackPeek(now, c) }
func (c CancelConn) apply(t *Tracker, now time.Time) error  { return t.CancelConn(now, c) }
func (c CancelByDrop) apply(t *Tracker, now time.Time) error {
	return t.CancelByDrop(now, c)
}
func (c ObservePeekNotification) apply(t *Tracker, now time.Time) error {
	return t.ObservePeekNotification(now, c)
}
func (c BeginExecution) apply(t *Tracker, now time.Time) error { return t.BeginExecution(now, c) }
func (c SetExecutionCluster) apply(t *Tracker, now time.Time) error {
	return t.SetExecutionCluster(now, c)
}
func (c SetExecutionTimestamp) apply(t *Tracker, now time.Time) error {
	return t.SetExecutionTimestamp(now, c)
}
func (c EndExecution) apply(t *Tracker, now time.Time) error { return t.EndExecution(now, c) }
