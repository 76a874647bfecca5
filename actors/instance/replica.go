package instance

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// ReplicaStatus is where a replica is in its life. transition draws the
// allowed paths.
type ReplicaStatus uint8

const (
	// replicaNew: added, not connected yet (never observed outside a step).
	replicaNew ReplicaStatus = iota
	// ReplicaActive: connected (or connecting) at its current incarnation.
	ReplicaActive
	// ReplicaFailed: its runtime failed; it restarts at restartAt.
	ReplicaFailed
	// ReplicaFailing: the restart tracker gave up.
	ReplicaFailing
)

// String names the status.
func (s ReplicaStatus) String() string {
	switch s {
	case replicaNew:
		return "new"
	case ReplicaActive:
		return "active"
	case ReplicaFailed:
		return "failed"
	case ReplicaFailing:
		return "failing"
	}
	return fmt.Sprintf("ReplicaStatus(%d)", uint8(s))
}

// replicaEvent is an input of the replica status machine.
type replicaEvent uint8

const (
	// evConnect: a (new) incarnation is launched and its history replayed.
	evConnect replicaEvent = iota + 1
	// evFail: the runtime failed and the tracker grants a restart.
	evFail
	// evGiveUp: the runtime failed and the tracker gave up.
	evGiveUp
)

func (e replicaEvent) String() string {
	return [...]string{"?", "connect", "fail", "give-up"}[e]
}

// transition returns the status after ev, or an error for a path not
// drawn here:
//
//	new ──connect──► active ──fail──► failed ──connect (restart delay passed, Maintain)──► active
//	                   │
//	                   └──give-up──► failing
//
// RemoveReplica ends any status. failing is final until the replica is
// removed (and perhaps added again).
func transition(s ReplicaStatus, ev replicaEvent) (ReplicaStatus, error) {
	switch {
	case ev == evConnect && (s == replicaNew || s == ReplicaFailed):
		return ReplicaActive, nil
	case ev == evFail && s == ReplicaActive:
		return ReplicaFailed, nil
	case ev == evGiveUp && s == ReplicaActive:
		return ReplicaFailing, nil
	}
	return s, fmt.Errorf("instance: replica status %s has no %s transition", s, ev)
}

// move applies ev to r; an illegal path is a broken invariant of the core.
func (r *replicaState) move(ev replicaEvent) {
	next, err := transition(r.status, ev)
	if err != nil {
		panic(fmt.Sprintf("replica %s: %v", r.id, err))
	}
	r.status = next
}

// replicaState is the instance's view of one replica.
type replicaState struct {
	id          timely.ReplicaId
	name        string
	incarnation uint64
	status      ReplicaStatus
	restarts    replica.RestartTracker
	restartAt   time.Time
	lastErr     error
	// statusErr is the last runtime-level error the current incarnation
	// reported in a ComputeStatus; statusErrors counts every status error
	// of the replica (all incarnations).
	statusErr    error
	statusErrors int
	// collections this incarnation was told about, with its frontiers.
	collections map[timely.GlobalId]*replicaCollection
}

// replicaCollection is one collection on one replica.
type replicaCollection struct {
	write, input, output timely.Frontier
	hydrated             bool
	// inputReported: the replica reported an input frontier (until then
	// its input holds follow its write frontier).
	inputReported bool
	// inputHolds are the replica's holds on the collection's inputs, in
	// the order of collection.inputs (replica_holds.go); nil once released.
	inputHolds []HoldId
	// lastErr is the last error the replica reported about the
	// collection (a refused dataflow, a failed flow).
	lastErr error
}

func newReplicaCollection() *replicaCollection {
	return &replicaCollection{write: timely.Minimum(), input: timely.Minimum(), output: timely.Minimum()}
}

// AddReplica adds a replica at incarnation 1 and asks for its connection
// with the reduced history replayed. A known id is ErrReplicaExists.
func (c *Core) AddReplica(id timely.ReplicaId, name string) error {
	if c.stopped {
		return ErrStopped
	}
	if _, ok := c.replicas[id]; ok {
		return fmt.Errorf("%w: %s", ErrReplicaExists, id)
	}
	r := &replicaState{id: id, name: name, restarts: c.cfg.Restarts(id), collections: map[timely.GlobalId]*replicaCollection{}}
	c.replicas[id] = r
	c.connect(r)
	c.applyHoldChanges()
	return nil
}

// connect starts r's next incarnation: it is told about every compute
// collection the reduced history still installs.
func (c *Core) connect(r *replicaState) {
	r.move(evConnect)
	r.incarnation++
	r.statusErr = nil
	c.releaseReplica(r)
	for _, col := range c.sortedCollections() {
		if !col.storage && !col.since.IsEmpty() {
			// The replay installs the collection at its since.
			rc := newReplicaCollection()
			r.collections[col.id] = rc
			c.holdReplicaInputs(r, col, rc, col.since)
		}
	}
	c.fx.Connects = append(c.fx.Connects, Connect{Replica: r.id, Incarnation: r.incarnation, Commands: c.replay(r)})
	c.log(slog.LevelInfo, "replica %s connecting at incarnation %d", r.id, r.incarnation)
}

// RemoveReplica removes a replica: its connection is closed, and peeks and
// subscribes that targeted it end with ErrReplicaFailed.
func (c *Core) RemoveReplica(id timely.ReplicaId) error {
	r := c.replicas[id]
	if r == nil {
		return fmt.Errorf("%w: %s", ErrUnknownReplica, id)
	}
	c.releaseReplica(r)
	delete(c.replicas, id)
	c.fx.Removed = append(c.fx.Removed, id)
	c.failTargeting(id)
	c.applyHoldChanges()
	c.cleanupDropped()
	return nil
}

// ReplicaFailed reports that incarnation of replica id failed with err.
// Its targeted peeks and subscribes end with ErrReplicaFailed; its
// restart tracker decides whether it restarts (after a delay, at a
// Maintain) or is reported failing. A report about an older incarnation,
// or about a replica not active, is ErrStaleResponse and changes nothing.
func (c *Core) ReplicaFailed(now time.Time, id timely.ReplicaId, incarnation uint64, err error) error {
	r := c.replicas[id]
	if r == nil {
		return fmt.Errorf("%w: %s", ErrUnknownReplica, id)
	}
	if r.incarnation != incarnation || r.status != ReplicaActive {
		return fmt.Errorf("%w: failure of replica %s incarnation %d (current %d, %s)", ErrStaleResponse, id, incarnation, r.incarnation, r.status)
	}
	r.lastErr = err
	c.releaseReplica(r)
	d := r.restarts.Failed(now, err)
	if d.Restart {
		r.move(evFail)
		r.restartAt = now.Add(d.After)
		c.log(slog.LevelWarn, "replica %s incarnation %d failed: %v; restarting in %s", id, incarnation, err, d.After)
	} else {
		r.move(evGiveUp)
		if d.Err != nil {
			r.lastErr = d.Err
		}
		c.log(slog.LevelError, "replica %s incarnation %d failed: %v; failing, not restarting", id, incarnation, r.lastErr)
	}
	c.failTargeting(id)
	c.applyHoldChanges()
	c.cleanupDropped()
	return nil
}

// rehydrateFailed reconnects failed replicas whose restart time came.
func (c *Core) rehydrateFailed(now time.Time) {
	for _, r := range c.sortedReplicas() {
		if r.status == ReplicaFailed && !now.Before(r.restartAt) {
			c.connect(r)
		}
	}
}

// HandleResponse applies a replica's response. A response from an unknown
// replica, a stale epoch, or that does not decode is dropped whole and the
// reason returned; a regressing frontier is ignored (the others of the
// same report apply) and ErrFrontierRegression returned. The caller logs
// and counts what is returned.
func (c *Core) HandleResponse(now time.Time, id timely.ReplicaId, resp *messages.ComputeResponse) error {
	r := c.replicas[id]
	if r == nil {
		return fmt.Errorf("%w: %s", ErrUnknownReplica, id)
	}
	e := resp.GetEpoch()
	if r.status != ReplicaActive || e.GetEnvironment() != c.cfg.EnvironmentEpoch || e.GetIncarnation() != r.incarnation {
		return fmt.Errorf("%w: replica %s answered epoch (%d, %d), current is (%d, %d)", ErrStaleResponse, id,
			e.GetEnvironment(), e.GetIncarnation(), c.cfg.EnvironmentEpoch, r.incarnation)
	}
	if c.stopped {
		return nil
	}
	var err error
	switch m := resp.Response.(type) {
	case *messages.ComputeResponse_Frontiers:
		err = c.handleFrontiers(now, r, m.Frontiers)
	case *messages.ComputeResponse_PeekResponse:
		err = c.handlePeekResponse(r, m.PeekResponse)
	case *messages.ComputeResponse_SubscribeResponse:
		err = c.handleSubscribeResponse(r, m.SubscribeResponse)
	case *messages.ComputeResponse_Status:
		err = c.handleStatus(now, r, m.Status)
	default:
		err = fmt.Errorf("%w: replica %s sent an empty response", ErrMalformedResponse, id)
	}
	c.applyHoldChanges()
	return err
}

func (c *Core) handleFrontiers(now time.Time, r *replicaState, f *messages.ComputeFrontiers) error {
	id, err := f.GetId().ToTimely()
	if err != nil {
		return fmt.Errorf("%w: frontiers from %s: %v", ErrMalformedResponse, r.id, err)
	}
	rc := r.collections[id]
	col := c.collections[id]
	if rc == nil || col == nil {
		return fmt.Errorf("%w: %s (frontiers from replica %s)", ErrUnknownCollection, id, r.id)
	}
	// Decode everything before applying anything.
	fields := []struct {
		name string
		msg  *messages.Frontier
		cur  *timely.Frontier
	}{{"write", f.GetWrite(), &rc.write}, {"input", f.GetInput(), &rc.input}, {"output", f.GetOutput(), &rc.output}}
	got := make([]timely.Frontier, len(fields))
	for i, fl := range fields {
		if fl.msg == nil {
			continue
		}
		if got[i], err = fl.msg.ToTimely(); err != nil {
			return fmt.Errorf("%w: %s frontier of %s from %s: %v", ErrMalformedResponse, fl.name, id, r.id, err)
		}
	}
	var regressions []string
	for i, fl := range fields {
		switch {
		case fl.msg == nil:
		case !fl.cur.LessEqual(got[i]):
			regressions = append(regressions, fmt.Sprintf("%s %s -> %s", fl.name, *fl.cur, got[i]))
		default:
			*fl.cur = got[i]
			if fl.name == "input" {
				rc.inputReported = true
			}
		}
	}
	c.downgradeReplicaInputs(rc)
	if col.upper.LessThan(rc.write) {
		col.upper = rc.write
		c.updateImplied(col)
	}
	if rc.write.IsEmpty() && col.dropped {
		c.applyHoldChanges()
		c.maybeCleanup(col)
	}
	if len(regressions) > 0 {
		return fmt.Errorf("%w: %s on replica %s: %v", ErrFrontierRegression, id, r.id, regressions)
	}
	return nil
}

func (c *Core) handleStatus(now time.Time, r *replicaState, s *messages.ComputeStatus) error {
	for _, h := range s.GetHydration() {
		id, err := h.GetId().ToTimely()
		if err != nil {
			return fmt.Errorf("%w: status from %s: %v", ErrMalformedResponse, r.id, err)
		}
		if rc := r.collections[id]; rc != nil {
			rc.hydrated = rc.hydrated || h.GetHydrated()
		}
	}
	all := len(r.collections) > 0
	for _, rc := range r.collections {
		all = all && rc.hydrated
	}
	if all {
		r.restarts.Healthy(now)
	}
	if s.GetError() != nil {
		return c.statusError(now, r, s)
	}
	return nil
}

// statusError records an error a replica reported: on the collection it
// names, or on the replica (dump, metrics). A runtime-level UNAVAILABLE
// error (not the restart the replica state handles) means the runtime
// cannot make progress (it lost its change-data subscription): the
// replica is failed, and restarts like one whose runtime ended. Every
// other error concerns one collection or is transient, and is recorded
// only.
func (c *Core) statusError(now time.Time, r *replicaState, s *messages.ComputeStatus) error {
	err := messages.ErrorFromWire(s.GetError())
	rep := StatusErrorReport{Replica: r.id, Code: strings.TrimPrefix(messages.CodeOf(err).String(), "ERROR_CODE_")}
	r.statusErrors++
	if s.GetFailed() != nil {
		id, derr := s.GetFailed().ToTimely()
		if derr != nil {
			return fmt.Errorf("%w: status from %s: %v", ErrMalformedResponse, r.id, derr)
		}
		rep.Collection = id.String()
		if rc := r.collections[id]; rc != nil {
			rc.lastErr = err
		}
		c.fx.StatusErrors = append(c.fx.StatusErrors, rep)
		c.log(slog.LevelWarn, "replica %s reports failure of %s: %v", r.id, id, err)
		return nil
	}
	r.statusErr = err
	c.fx.StatusErrors = append(c.fx.StatusErrors, rep)
	if messages.CodeOf(err) == messages.ErrorCode_ERROR_CODE_UNAVAILABLE && !s.GetRestarted() {
		return c.ReplicaFailed(now, r.id, r.incarnation, err)
	}
	c.log(slog.LevelWarn, "replica %s reports: %v", r.id, err)
	return nil
}

func (c *Core) sortedReplicas() []*replicaState {
	out := make([]*replicaState, 0, len(c.replicas))
	for _, r := range c.replicas {
		out = append(out, r)
	}
	sortReplicas(out)
	return out
}
