package querytracker

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/arbor-db/arbor/timely"
)

// DefaultLogCapacity is how many ended executions the statement log keeps
// when TrackerConfig.LogCapacity is zero.
const DefaultLogCapacity = 1024

// Execution is one statement execution as the log records it. Fields other
// than Id, Conn and BeganAt are filled in as they become known; after the
// execution ended they never change.
type Execution struct {
	Id      ExecutionId
	Conn    timely.ConnectionId
	BeganAt time.Time

	Cluster      timely.ClusterId
	HasCluster   bool
	Timestamp    timely.Timestamp
	HasTimestamp bool
	Strategy     Strategy
	// Peek is the uuid of the execution's tracked peek, if it had one.
	Peek    timely.Uuid
	HasPeek bool

	Ended   bool
	EndedAt time.Time
	Reason  EndReason // set once Ended
}

// MarshalJSON renders the execution for Dump, leaving out what is not known.
func (e Execution) MarshalJSON() ([]byte, error) {
	type out struct {
		Id        ExecutionId `json:"id"`
		Conn      uint32      `json:"conn"`
		BeganAt   time.Time   `json:"began_at"`
		Cluster   string      `json:"cluster,omitempty"`
		Timestamp *uint64     `json:"timestamp,omitempty"`
		Strategy  *Strategy   `json:"strategy,omitempty"`
		Peek      string      `json:"peek,omitempty"`
		EndedAt   *time.Time  `json:"ended_at,omitempty"`
		Reason    *EndReason  `json:"reason,omitempty"`
	}
	o := out{Id: e.Id, Conn: uint32(e.Conn), BeganAt: e.BeganAt}
	if e.HasCluster {
		o.Cluster = e.Cluster.String()
	}
	if e.HasTimestamp {
		ts := uint64(e.Timestamp)
		o.Timestamp = &ts
	}
	if e.Strategy.Valid() {
		o.Strategy = &e.Strategy
	}
	if e.HasPeek {
		o.Peek = e.Peek.String()
	}
	if e.Ended {
		o.EndedAt, o.Reason = &e.EndedAt, &e.Reason
	}
	return json.Marshal(o)
}

// statementLog holds every live execution and a bounded window of ended
// ones, most recent last. Live executions are never evicted: each is a
// handle someone still owes a retirement, and listing them is how a leak is
// found. Ended ones beyond the capacity are forgotten oldest first; after
// that a late setter for one reports ErrUnknownExecution instead of
// ErrExecutionEnded, which is equally a no-op.
type statementLog struct {
	capacity   int
	live       map[ExecutionId]*Execution
	liveByConn index[timely.ConnectionId, ExecutionId]
	ended      map[ExecutionId]*Execution
	// endedPeeks maps the uuid of each ended execution's peek to it, so that
	// a stale TrackPeek for a peek that already ended is recognised.
	endedPeeks map[timely.Uuid]ExecutionId
	// ring holds the ended ids in end order; head is the oldest.
	ring       []ExecutionId
	head, size int
	// doubleRetirements counts retirements of already-ended executions.
	doubleRetirements uint64
}

func newStatementLog(capacity int) *statementLog {
	if capacity <= 0 {
		capacity = DefaultLogCapacity
	}
	return &statementLog{
		capacity:   capacity,
		live:       map[ExecutionId]*Execution{},
		liveByConn: index[timely.ConnectionId, ExecutionId]{},
		ended:      map[ExecutionId]*Execution{},
		endedPeeks: map[timely.Uuid]ExecutionId{},
		ring:       make([]ExecutionId, capacity),
	}
}

// get returns the execution, live or ended, if the log holds it.
func (l *statementLog) get(id ExecutionId) (*Execution, bool) {
	if e, ok := l.live[id]; ok {
		return e, true
	}
	e, ok := l.ended[id]
	return e, ok
}

// begin records a new live execution. It fails with ErrExecutionExists if
// the log already holds id, live or ended.
func (l *statementLog) begin(now time.Time, id ExecutionId, conn timely.ConnectionId) (*Execution, error) {
	if _, ok := l.get(id); ok {
		return nil, ErrExecutionExists
	}
	e := &Execution{Id: id, Conn: conn, BeganAt: now}
	l.live[id] = e
	l.liveByConn.add(conn, id)
	return e, nil
}

// moveConn makes a live execution belong to conn; TrackPeek uses it so that
// an execution and its peek always name the same connection.
func (l *statementLog) moveConn(e *Execution, conn timely.ConnectionId) {
	if e.Conn == conn || e.Ended {
		return
	}
	l.liveByConn.remove(e.Conn, e.Id)
	e.Conn = conn
	l.liveByConn.add(conn, e.Id)
}

// setCluster records the cluster of a live execution.
func (l *statementLog) setCluster(id ExecutionId, cluster timely.ClusterId) error {
	e, err := l.settable(id)
	if err != nil {
		return err
	}
	e.Cluster, e.HasCluster = cluster, true
	return nil
}

// setTimestamp records the read timestamp of a live execution.
func (l *statementLog) setTimestamp(id ExecutionId, ts timely.Timestamp) error {
	e, err := l.settable(id)
	if err != nil {
		return err
	}
	e.Timestamp, e.HasTimestamp = ts, true
	return nil
}

// settable returns the live execution id, or ErrExecutionEnded when it has
// ended (setters race the end; losing is fine), or ErrUnknownExecution.
func (l *statementLog) settable(id ExecutionId) (*Execution, error) {
	if e, ok := l.live[id]; ok {
		return e, nil
	}
	if _, ok := l.ended[id]; ok {
		return nil, ErrExecutionEnded
	}
	return nil, ErrUnknownExecution
}

// end moves a live execution to the ended window. Ending an ended execution
// is ErrAlreadyRetired and is counted; ending an unknown one is
// ErrUnknownExecution. Neither changes the log.
func (l *statementLog) end(now time.Time, id ExecutionId, reason EndReason) (*Execution, error) {
	e, ok := l.live[id]
	if !ok {
		if _, ended := l.ended[id]; ended {
			l.doubleRetirements++
			return nil, ErrAlreadyRetired
		}
		return nil, ErrUnknownExecution
	}
	delete(l.live, id)
	l.liveByConn.remove(e.Conn, id)
	e.Ended, e.EndedAt, e.Reason = true, now, reason
	if l.size == l.capacity {
		oldest := l.ring[l.head]
		if o := l.ended[oldest]; o.HasPeek && l.endedPeeks[o.Peek] == oldest {
			delete(l.endedPeeks, o.Peek)
		}
		delete(l.ended, oldest)
		l.head = (l.head + 1) % l.capacity
		l.size--
	}
	l.ring[(l.head+l.size)%l.capacity] = id
	l.size++
	l.ended[id] = e
	if e.HasPeek {
		l.endedPeeks[e.Peek] = id
	}
	return e, nil
}

// endedPeek returns the execution of a peek that ended, if the window
// still holds it.
func (l *statementLog) endedPeek(uuid timely.Uuid) (ExecutionId, bool) {
	id, ok := l.endedPeeks[uuid]
	return id, ok
}

// liveOf returns the live executions of a connection in id order.
func (l *statementLog) liveOf(conn timely.ConnectionId) []ExecutionId {
	return slices.SortedFunc(maps.Keys(l.liveByConn[conn]), compareExecutionIds)
}

// liveList returns copies of the live executions in begin order (id order
// among equals).
func (l *statementLog) liveList() []Execution {
	out := make([]Execution, 0, len(l.live))
	for _, e := range l.live {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Execution) int {
		if c := a.BeganAt.Compare(b.BeganAt); c != 0 {
			return c
		}
		return compareExecutionIds(a.Id, b.Id)
	})
	return out
}

// recent returns copies of the last n ended executions, oldest first.
func (l *statementLog) recent(n int) []Execution {
	if n > l.size {
		n = l.size
	}
	out := make([]Execution, 0, n)
	for i := l.size - n; i < l.size; i++ {
		out = append(out, *l.ended[l.ring[(l.head+i)%l.capacity]])
	}
	return out
}

// check verifies the log's indexes agree; it returns a description of the
// first disagreement, or "".
func (l *statementLog) check() string {
	n := 0
	for conn, set := range l.liveByConn {
		if len(set) == 0 {
			return "empty per-connection set for " + connString(conn)
		}
		for id := range set {
			e, ok := l.live[id]
			if !ok || e.Conn != conn {
				return "per-connection index names execution " + id.String() + " that is not live on that connection"
			}
			n++
		}
	}
	if n != len(l.live) {
		return "per-connection index and live map disagree in size"
	}
	if l.size != len(l.ended) || l.size > l.capacity {
		return "ended window and its ring disagree"
	}
	for id, e := range l.live {
		if e.Ended {
			return "live execution " + id.String() + " is marked ended"
		}
		if _, ok := l.ended[id]; ok {
			return "execution " + id.String() + " is both live and ended"
		}
	}
	for i := 0; i < l.size; i++ {
		id := l.ring[(l.head+i)%l.capacity]
		if e, ok := l.ended[id]; !ok || !e.Ended {
			return "ring names execution " + id.String() + " that is not ended"
		}
	}
	return ""
}
