package querytracker

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/arbor-db/arbor/timely"
)

// TrackerConfig tunes a Tracker. The zero value is the default.
type TrackerConfig struct {
	// TombstoneTTL is how long drops are remembered; DefaultTombstoneTTL
	// when zero.
	TombstoneTTL time.Duration
	// LogCapacity is how many ended executions the statement log keeps;
	// DefaultLogCapacity when zero.
	LogCapacity int
}

// trackedPeek is the state of one tracked peek.
type trackedPeek struct {
	uuid      timely.Uuid
	conn      timely.ConnectionId
	cluster   timely.ClusterId
	dependsOn []timely.GlobalId // sorted, no duplicates
	execution ExecutionId
	strategy  Strategy
	trackedAt time.Time
}

// Tracker is the query tracker's state machine. It does no I/O, reads no
// clock and starts no goroutines: every method takes the current time, and
// side effects go through the Effects it was built with, called
// synchronously. It is not safe for concurrent use; the actor serializes
// access.
//
// A peek's life:
//
//	            TrackPeek                 ObservePeekNotification / UntrackPeek /
//	(unknown) ------------> tracked ----- CancelConn / CancelByDrop / EndExecution ----> ended
//	    |                                                                                  ^
//	    +-- TrackPeek hitting a tombstone, an ended execution or a failed watch set -------+
//
// Every arrow into "ended" retires the peek's execution exactly once (see
// ExecutionId). Commands for a peek that is not tracked change nothing.
type Tracker struct {
	effects Effects

	// Guarded by the caller (the actor).
	peeks      map[timely.Uuid]*trackedPeek
	byConn     index[timely.ConnectionId, timely.Uuid]
	tombstones *tombstones
	log        *statementLog
}

// NewTracker returns an empty tracker that performs its effects through
// effects.
func NewTracker(cfg TrackerConfig, effects Effects) *Tracker {
	return &Tracker{
		effects:    effects,
		peeks:      map[timely.Uuid]*trackedPeek{},
		byConn:     index[timely.ConnectionId, timely.Uuid]{},
		tombstones: newTombstones(cfg.TombstoneTTL),
		log:        newStatementLog(cfg.LogCapacity),
	}
}

// Apply runs any command; it is what the actor calls.
func (t *Tracker) Apply(now time.Time, cmd Command) error { return cmd.apply(t, now) }

// TrackedPeeks returns the number of tracked peeks.
func (t *Tracker) TrackedPeeks() int { return len(t.peeks) }

// IsTracked reports whether the peek is tracked.
func (t *Tracker) IsTracked(uuid timely.Uuid) bool { _, ok := t.peeks[uuid]; return ok }

// Tombstones returns the number of live tombstones (as of the last command).
func (t *Tracker) Tombstones() int { return t.tombstones.len() }

// LiveExecutions returns the number of executions begun and not retired.
func (t *Tracker) LiveExecutions() int { return len(t.log.live) }

// Unretired returns the executions that were begun and not yet retired, in
// begin order. Once every peek had its terminal event and every explicitly
// begun execution was ended, it is empty; anything left is a leaked handle.
func (t *Tracker) Unretired() []Execution { return t.log.liveList() }

// DoubleRetirements returns how many times a retirement was attempted on an
// execution that had already ended.
func (t *Tracker) DoubleRetirements() uint64 { return t.log.doubleRetirements }

// Execution returns a copy of the log's record of an execution, if the log
// still holds it.
func (t *Tracker) Execution(id ExecutionId) (Execution, bool) {
	e, ok := t.log.get(id)
	if !ok {
		return Execution{}, false
	}
	return *e, true
}

// insert adds a peek to both maps.
func (t *Tracker) insert(p *trackedPeek) {
	t.peeks[p.uuid] = p
	t.byConn.add(p.conn, p.uuid)
}

// remove takes a peek out of both maps and returns it.
func (t *Tracker) remove(uuid timely.Uuid) (*trackedPeek, bool) {
	p, ok := t.peeks[uuid]
	if !ok {
		return nil, false
	}
	delete(t.peeks, uuid)
	t.byConn.remove(p.conn, uuid)
	return p, true
}

// CheckInvariants returns an error describing the first broken invariant:
//   - a peek is in the uuid map iff it is in its connection's set, and no
//     connection has an empty set;
//   - every tracked peek's execution is live, points back at the peek and
//     names the same connection;
//   - the statement log's indexes agree and its window is within capacity;
//   - the tombstones' earliest-expiry bound holds.
//
// Tests call it after every step.
func (t *Tracker) CheckInvariants() error {
	n := 0
	for conn, set := range t.byConn {
		if len(set) == 0 {
			return fmt.Errorf("empty peek set for %s", connString(conn))
		}
		for uuid := range set {
			p, ok := t.peeks[uuid]
			if !ok {
				return fmt.Errorf("peek %v is in %s's set but not tracked", uuid, connString(conn))
			}
			if p.conn != conn {
				return fmt.Errorf("peek %v of %s is in %s's set", uuid, connString(p.conn), connString(conn))
			}
			n++
		}
	}
	if n != len(t.peeks) {
		return fmt.Errorf("%d tracked peeks but %d in connection sets", len(t.peeks), n)
	}
	for uuid, p := range t.peeks {
		e, ok := t.log.live[p.execution]
		if !ok {
			return fmt.Errorf("tracked peek %v has execution %v that is not live", uuid, p.execution)
		}
		if !e.HasPeek || e.Peek != uuid {
			return fmt.Errorf("execution %v of tracked peek %v does not point back at it", p.execution, uuid)
		}
		if e.Conn != p.conn {
			return fmt.Errorf("tracked peek %v is on %s but its execution on %s", uuid, connString(p.conn), connString(e.Conn))
		}
	}
	if msg := t.log.check(); msg != "" {
		return fmt.Errorf("statement log: %s", msg)
	}
	if !t.tombstones.check() {
		return fmt.Errorf("tombstones: earliest expiry bound is wrong")
	}
	return nil
}

// sortedUuids returns the uuids of a set in byte order, so that effects
// happen in a deterministic order.
func sortedUuids(set map[timely.Uuid]struct{}) []timely.Uuid {
	return slices.SortedFunc(maps.Keys(set), compareUuids)
}

func compareUuids(a, b timely.Uuid) int { return bytes.Compare(a[:], b[:]) }

// normalizeDeps returns a sorted copy of ids without duplicates.
func normalizeDeps(ids []timely.GlobalId) []timely.GlobalId {
	out := slices.Clone(ids)
	slices.SortFunc(out, timely.GlobalId.Compare)
	return slices.Compact(out)
}
