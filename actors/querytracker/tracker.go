package querytracker

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/arbor-db/arbor/timely"
)

// Every command first expires tombstones (the only time-driven state), then
// applies itself. The handlers below return an error only when they ignored
// their input; outcomes such as "canceled at once" are visible through
// Effects.

// TrackPeek starts tracking a peek, or ends it at once when it cannot run:
//   - its execution already ended (e.g. CancelConn won the race): the compute
//     peek is canceled, nothing is retired twice;
//   - its cluster or a dependency has a tombstone: the compute peek is
//     canceled and the execution ends with "query could not complete because
//     <name> was dropped";
//   - its watch set fails to install: the compute peek is canceled and the
//     execution ends with the install error.
//
// A duplicate (same uuid already tracked) changes nothing and returns
// ErrDuplicatePeek; a stale one (the peek already ended, as far as the
// statement log remembers) returns ErrPeekEnded. Either way, a different
// execution it carries is retired with an error so its handle does not
// leak. An invalid command returns ErrInvalidCommand and retires its
// execution if it has one.
func (t *Tracker) TrackPeek(now time.Time, c TrackPeek) error {
	t.tombstones.expire(now)
	if err := validateTrackPeek(c); err != nil {
		t.reject(now, c, err)
		return err
	}
	if p, ok := t.peeks[c.Uuid]; ok {
		if p.execution != c.Execution {
			t.retireNew(now, c.Execution, c.Conn, EndReason{Kind: EndError,
				Message: fmt.Sprintf("peek %v is already tracked for execution %v", c.Uuid, p.execution)})
		}
		return fmt.Errorf("track peek %v: %w", c.Uuid, ErrDuplicatePeek)
	}

	if prev, ok := t.log.endedPeek(c.Uuid); ok {
		// A stale TrackPeek: this peek was tracked and has ended. Its
		// compute side is over; only a different handle is owed a retirement.
		if prev != c.Execution {
			t.retireNew(now, c.Execution, c.Conn, EndReason{Kind: EndError,
				Message: fmt.Sprintf("peek %v already ended", c.Uuid)})
		}
		return fmt.Errorf("track peek %v: %w", c.Uuid, ErrPeekEnded)
	}
	e, known := t.log.get(c.Execution)
	switch {
	case known && e.Ended:
		// The execution ended before its peek was tracked: a CancelConn or
		// EndExecution won the race. The compute peek may be running.
		t.cancelCompute(c.Cluster, c.Uuid, ReasonExecutionEnded)
		t.effects.CountCanceledPeeks(ReasonExecutionEnded, 1)
		return nil
	case known && e.HasPeek:
		t.cancelCompute(c.Cluster, c.Uuid, ReasonRejected)
		t.effects.CountCanceledPeeks(ReasonRejected, 1)
		return fmt.Errorf("track peek %v: execution %v has peek %v: %w", c.Uuid, c.Execution, e.Peek, ErrExecutionHasPeek)
	case !known:
		e, _ = t.log.begin(now, c.Execution, c.Conn)
	}
	// The peek's connection is authoritative: a cancel of it must reach the
	// execution too.
	t.log.moveConn(e, c.Conn)
	e.Cluster, e.HasCluster = c.Cluster, true
	e.Strategy = c.Strategy
	// Recorded even if the peek is canceled below, so that a stale
	// duplicate of it is recognised (ErrPeekEnded).
	e.Peek, e.HasPeek = c.Uuid, true
	deps := normalizeDeps(c.DependsOn)

	if name, dropped := t.tombstones.hit(c.Cluster, deps); dropped {
		t.cancelCompute(c.Cluster, c.Uuid, ReasonDropped)
		t.effects.CountCanceledPeeks(ReasonDropped, 1)
		_ = t.retire(now, c.Execution, EndReason{Kind: EndError, Message: droppedMessage(name)})
		return nil
	}
	if c.WatchSet != nil {
		if err := t.effects.InstallWatchSet(c.Execution, *c.WatchSet); err != nil {
			t.cancelCompute(c.Cluster, c.Uuid, ReasonWatchSetFailed)
			t.effects.CountCanceledPeeks(ReasonWatchSetFailed, 1)
			_ = t.retire(now, c.Execution, EndReason{Kind: EndError, Message: "install watch set: " + err.Error()})
			return nil
		}
	}
	t.insert(&trackedPeek{
		uuid:      c.Uuid,
		conn:      c.Conn,
		cluster:   c.Cluster,
		dependsOn: deps,
		execution: c.Execution,
		strategy:  c.Strategy,
		trackedAt: now,
	})
	return nil
}

// reject ends a TrackPeek that cannot be applied: its handle (if any) is
// retired with the error, and a compute peek with its uuid is canceled,
// unless the uuid is a tracked peek's (then it is that peek's and stays).
func (t *Tracker) reject(now time.Time, c TrackPeek, err error) {
	t.retireNew(now, c.Execution, c.Conn, EndReason{Kind: EndError, Message: err.Error()})
	if _, tracked := t.peeks[c.Uuid]; c.Uuid != (timely.Uuid{}) && !tracked && c.Cluster.Kind.Valid() {
		t.cancelCompute(c.Cluster, c.Uuid, ReasonRejected)
		t.effects.CountCanceledPeeks(ReasonRejected, 1)
	}
}

// rejectTrackPeek is the command Decode returns with a malformed TrackPeek,
// so that the handle the message carried is retired, not leaked.
type rejectTrackPeek struct {
	TrackPeek
	err error
}

func (c rejectTrackPeek) apply(t *Tracker, now time.Time) error {
	t.tombstones.expire(now)
	t.reject(now, c.TrackPeek, c.err)
	return c.err
}

func validateTrackPeek(c TrackPeek) error {
	switch {
	case c.Uuid == timely.Uuid{}:
		return fmt.Errorf("track peek: uuid is zero: %w", ErrInvalidCommand)
	case c.Execution.IsZero():
		return fmt.Errorf("track peek %v: execution id is zero: %w", c.Uuid, ErrInvalidCommand)
	case !c.Strategy.Valid():
		return fmt.Errorf("track peek %v: unknown %v: %w", c.Uuid, c.Strategy, ErrInvalidCommand)
	}
	return nil
}

// UntrackPeek forgets a tracked peek and ends its execution as aborted. It
// sends no compute cancel: the caller untracks a peek it finished or failed
// to issue. An unknown uuid returns ErrUnknownPeek.
func (t *Tracker) UntrackPeek(now time.Time, c UntrackPeek) error {
	t.tombstones.expire(now)
	p, ok := t.remove(c.Uuid)
	if !ok {
		return fmt.Errorf("untrack peek %v: %w", c.Uuid, ErrUnknownPeek)
	}
	return t.retire(now, p.execution, EndReason{Kind: EndAborted})
}

// CancelConn cancels every tracked peek of the connection (compute cancel,
// execution ends as canceled) and then ends the connection's other live
// executions as canceled, so that a peek of theirs tracked later is canceled
// at once. A connection with nothing live is a no-op.
func (t *Tracker) CancelConn(now time.Time, c CancelConn) error {
	t.tombstones.expire(now)
	reason := EndReason{Kind: EndCanceled, Message: msgCanceledByUser}
	n := 0
	for _, uuid := range sortedUuids(t.byConn[c.Conn]) {
		p, _ := t.remove(uuid)
		t.cancelCompute(p.cluster, uuid, ReasonConnection)
		_ = t.retire(now, p.execution, reason)
		n++
	}
	if n > 0 {
		t.effects.CountCanceledPeeks(ReasonConnection, n)
	}
	for _, id := range t.log.liveOf(c.Conn) {
		_ = t.retire(now, id, reason)
	}
	return nil
}

// CancelByDrop records tombstones for the dropped clusters and collections
// and cancels every tracked peek on a dropped cluster or depending on a
// dropped collection; only those. Each one's execution ends with "query
// could not complete because <name> was dropped", naming its cluster if that
// was dropped, else its first dropped dependency. Repeating a drop renews
// its tombstone and cancels nothing new.
func (t *Tracker) CancelByDrop(now time.Time, c CancelByDrop) error {
	t.tombstones.expire(now)
	if len(c.Clusters) == 0 && len(c.Collections) == 0 {
		return nil
	}
	c = withDisplayNames(c)
	t.tombstones.add(now, c.Clusters, c.Collections)
	type victim struct {
		uuid timely.Uuid
		name string
	}
	var victims []victim
	for uuid, p := range t.peeks {
		if name, ok := c.Clusters[p.cluster]; ok {
			victims = append(victims, victim{uuid, name})
			continue
		}
		for _, dep := range p.dependsOn {
			if name, ok := c.Collections[dep]; ok {
				victims = append(victims, victim{uuid, name})
				break
			}
		}
	}
	slices.SortFunc(victims, func(a, b victim) int { return compareUuids(a.uuid, b.uuid) })
	for _, v := range victims {
		p, _ := t.remove(v.uuid)
		t.cancelCompute(p.cluster, v.uuid, ReasonDropped)
		_ = t.retire(now, p.execution, EndReason{Kind: EndError, Message: droppedMessage(v.name)})
	}
	if len(victims) > 0 {
		t.effects.CountCanceledPeeks(ReasonDropped, len(victims))
	}
	return nil
}

// withDisplayNames returns c with every empty name replaced by "cluster
// <id>" or "relation <id>", so the error a client sees always names the
// dropped object. The caller's maps are not modified.
func withDisplayNames(c CancelByDrop) CancelByDrop {
	out := CancelByDrop{
		Clusters:    make(map[timely.ClusterId]string, len(c.Clusters)),
		Collections: make(map[timely.GlobalId]string, len(c.Collections)),
	}
	for id, name := range c.Clusters {
		out.Clusters[id] = displayName(name, "cluster", id.String())
	}
	for id, name := range c.Collections {
		out.Collections[id] = displayName(name, "relation", id.String())
	}
	return out
}

// ObservePeekNotification ends a tracked peek with compute's outcome; the
// execution's end reason comes from EndReasonFor with the strategy recorded
// at track time. A uuid that is not tracked (unknown, or a late notification
// after a cancel) returns ErrUnknownPeek; an unknown outcome returns
// ErrInvalidCommand and leaves the peek tracked.
func (t *Tracker) ObservePeekNotification(now time.Time, c ObservePeekNotification) error {
	t.tombstones.expire(now)
	p, ok := t.peeks[c.Uuid]
	if !ok {
		return fmt.Errorf("peek notification for %v: %w", c.Uuid, ErrUnknownPeek)
	}
	reason, ok := EndReasonFor(c.Notification, p.strategy)
	if !ok {
		return fmt.Errorf("peek notification for %v: unknown %v: %w", c.Uuid, c.Notification.Outcome, ErrInvalidCommand)
	}
	t.remove(c.Uuid)
	return t.retire(now, p.execution, reason)
}

// BeginExecution records a live execution of a connection. Beginning an
// execution the log holds returns ErrExecutionExists and changes nothing.
func (t *Tracker) BeginExecution(now time.Time, c BeginExecution) error {
	t.tombstones.expire(now)
	if c.Execution.IsZero() {
		return fmt.Errorf("begin execution: id is zero: %w", ErrInvalidCommand)
	}
	if _, err := t.log.begin(now, c.Execution, c.Conn); err != nil {
		return fmt.Errorf("begin execution %v: %w", c.Execution, err)
	}
	return nil
}

// SetExecutionCluster records an execution's cluster. After the end it is a
// no-op returning ErrExecutionEnded; for an unknown execution it returns
// ErrUnknownExecution.
func (t *Tracker) SetExecutionCluster(now time.Time, c SetExecutionCluster) error {
	t.tombstones.expire(now)
	if err := t.log.setCluster(c.Execution, c.Cluster); err != nil {
		return fmt.Errorf("set cluster of execution %v: %w", c.Execution, err)
	}
	return nil
}

// SetExecutionTimestamp records an execution's read timestamp. After the end
// it is a no-op returning ErrExecutionEnded; for an unknown execution it
// returns ErrUnknownExecution.
func (t *Tracker) SetExecutionTimestamp(now time.Time, c SetExecutionTimestamp) error {
	t.tombstones.expire(now)
	if err := t.log.setTimestamp(c.Execution, c.Timestamp); err != nil {
		return fmt.Errorf("set timestamp of execution %v: %w", c.Execution, err)
	}
	return nil
}

// EndExecution retires an execution with the caller's reason. If a peek of
// it is tracked, the peek is dropped and its compute peek canceled first. A
// second end returns ErrAlreadyRetired (and is counted); an unknown
// execution returns ErrUnknownExecution; an incomplete reason returns
// ErrInvalidCommand. None of those change anything.
func (t *Tracker) EndExecution(now time.Time, c EndExecution) error {
	t.tombstones.expire(now)
	if !c.Reason.Valid() {
		return fmt.Errorf("end execution %v: incomplete reason %v: %w", c.Execution, c.Reason, ErrInvalidCommand)
	}
	if e, ok := t.log.live[c.Execution]; ok && e.HasPeek {
		if p, tracked := t.remove(e.Peek); tracked {
			t.cancelCompute(p.cluster, p.uuid, ReasonExecutionEnded)
			t.effects.CountCanceledPeeks(ReasonExecutionEnded, 1)
		}
	}
	return t.retire(now, c.Execution, c.Reason)
}

// Abandon ends everything the tracker holds: every tracked peek is canceled
// in compute and every live execution is retired with an error carrying
// message. The actor calls it when it is about to lose its state (restart
// after a panic, stop), so that no handle is left unretired.
func (t *Tracker) Abandon(now time.Time, message string) {
	reason := EndReason{Kind: EndError, Message: message}
	n := 0
	for _, conn := range slices.Sorted(maps.Keys(t.byConn)) {
		for _, uuid := range sortedUuids(t.byConn[conn]) {
			p, _ := t.remove(uuid)
			t.cancelCompute(p.cluster, uuid, ReasonRejected)
			_ = t.retire(now, p.execution, reason)
			n++
		}
	}
	if n > 0 {
		t.effects.CountCanceledPeeks(ReasonRejected, n)
	}
	for _, e := range t.log.liveList() {
		_ = t.retire(now, e.Id, reason)
	}
}

// Expire forgets expired tombstones. Commands do this themselves; the actor
// also calls it before Dump so that Dump never shows expired tombstones.
func (t *Tracker) Expire(now time.Time) { t.tombstones.expire(now) }

func (t *Tracker) cancelCompute(cluster timely.ClusterId, uuid timely.Uuid, reason CancelReason) {
	t.effects.CancelComputePeek(cluster, uuid, reason)
}
