package instance

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// PeekRequest reads a collection at one time.
type PeekRequest struct {
	Uuid timely.Uuid
	// Collection is an index (read on a replica) or a storage collection
	// (read directly by a replica).
	Collection timely.GlobalId
	Timestamp  timely.Timestamp
	// Key, Mfp and Finishing (order, offset, limit) pass through to the
	// replica.
	Key       *messages.Row
	Mfp       *messages.MapFilterProject
	Finishing *messages.Finishing
	// Target restricts the peek to one replica (nil: the first to answer).
	Target *timely.ReplicaId
	// Deadline ends the peek with ErrPeekTimedOut at the first Maintain at
	// or after it (zero: none).
	Deadline time.Time
	// Client is handed back with the answer.
	Client any
}

type pendingPeek struct {
	req  PeekRequest
	hold HoldId
}

// Peek issues a peek: it takes a read hold at the peek's time and sends
// the peek to every connected replica (or the target only). Exactly one
// PeekAnswer follows, from the first replica to answer, or from the
// instance on timeout, cancel, target failure or stop. It is refused, with
// nothing changed, for a known uuid, an unknown or dropped collection, an
// unknown target, a time before the collection's since
// (ErrPeekCompacted), or a time at or after the until of the collection's
// dataflow (ErrPeekBeyondUntil).
func (c *Core) Peek(req PeekRequest) error {
	if c.stopped {
		return ErrStopped
	}
	if _, ok := c.peeks[req.Uuid]; ok {
		return fmt.Errorf("%w: %s", ErrPeekExists, req.Uuid)
	}
	col, err := c.live(req.Collection)
	if err != nil {
		return fmt.Errorf("peek %s: %w", req.Uuid, err)
	}
	var target *replicaState
	if req.Target != nil {
		if target = c.replicas[*req.Target]; target == nil {
			return fmt.Errorf("%w: %s (target of peek %s)", ErrUnknownReplica, *req.Target, req.Uuid)
		}
	}
	since := col.since
	if col.storage {
		since = col.storageSince
	}
	if !since.Admits(req.Timestamp) {
		return fmt.Errorf("%w: peek %s of %s at %d, since is %s", ErrPeekCompacted, req.Uuid, col.id, req.Timestamp, since)
	}
	if !col.storage && col.until.Admits(req.Timestamp) {
		return fmt.Errorf("%w: peek %s of %s at %d, its dataflow's until is %s", ErrPeekBeyondUntil, req.Uuid, col.id, req.Timestamp, col.until)
	}
	if target != nil && target.status != ReplicaActive {
		// Accepted and at once ended: the caller gets its one answer.
		c.answer(req, nil, fmt.Errorf("%w: %s is %s", ErrReplicaFailed, target.id, target.status), timely.ReplicaId{}, "replica_failed")
		return nil
	}
	p := &pendingPeek{req: req}
	p.hold = c.acquireHold(col, timely.At(req.Timestamp), "peek").Id
	c.peeks[req.Uuid] = p
	c.applyHoldChanges()

	cmd := &messages.ComputePeek{Uuid: messages.FromUuid(req.Uuid), Timestamp: uint64(req.Timestamp), Key: req.Key, Mfp: req.Mfp, Finishing: req.Finishing}
	if col.storage {
		cmd.Target = &messages.ComputePeek_Persist{Persist: &messages.ComputePersistTarget{Id: messages.FromGlobalId(col.id), Schema: col.schema}}
	} else {
		cmd.Target = &messages.ComputePeek_Index{Index: messages.FromGlobalId(col.id)}
	}
	env := &messages.ComputeCommand{Command: &messages.ComputeCommand_Peek{Peek: cmd}}
	if target != nil {
		c.record(env)
		c.send(target, env)
	} else {
		c.broadcast(env)
	}
	return nil
}

// CancelPeek ends a pending peek with ErrPeekCanceled.
func (c *Core) CancelPeek(uuid timely.Uuid) error {
	p := c.peeks[uuid]
	if p == nil {
		return fmt.Errorf("%w: %s", ErrUnknownPeek, uuid)
	}
	c.finishPeek(p, nil, ErrPeekCanceled, timely.ReplicaId{}, "canceled", true)
	c.applyHoldChanges()
	return nil
}

func (c *Core) handlePeekResponse(r *replicaState, m *messages.ComputePeekResponse) error {
	uuid, err := m.GetUuid().ToTimely()
	if err != nil {
		return fmt.Errorf("%w: peek response from %s: %v", ErrMalformedResponse, r.id, err)
	}
	p := c.peeks[uuid]
	if p == nil {
		// Answered already by another replica (or ended): the first wins.
		return nil
	}
	if p.req.Target != nil && *p.req.Target != r.id {
		return nil
	}
	switch res := m.Result.(type) {
	case *messages.ComputePeekResponse_Rows:
		c.finishPeek(p, res.Rows.GetRows(), nil, r.id, "rows", true)
	case *messages.ComputePeekResponse_Error:
		c.finishPeek(p, nil, messages.ErrorFromWire(res.Error), r.id, "error", true)
	case *messages.ComputePeekResponse_Canceled:
		c.finishPeek(p, nil, fmt.Errorf("%w: by replica %s", ErrPeekCanceled, r.id), r.id, "canceled", true)
	default:
		return fmt.Errorf("%w: peek response %s from %s has no result", ErrMalformedResponse, uuid, r.id)
	}
	return nil
}

// finishPeek answers p and forgets it. The CancelPeek (when cancel) goes
// to the replicas before the peek's read hold is released, so no
// AllowCompaction can overtake it.
func (c *Core) finishPeek(p *pendingPeek, rows []*messages.Row, err error, by timely.ReplicaId, result string, cancel bool) {
	delete(c.peeks, p.req.Uuid)
	// Whatever the answer, the peek must never be replayed to a new
	// incarnation; the CancelPeek below (when sent) says the same.
	c.history.RetirePeek(p.req.Uuid)
	if cancel {
		cmd := &messages.ComputeCommand{Command: &messages.ComputeCommand_CancelPeek{CancelPeek: &messages.ComputeCancelPeek{Uuid: messages.FromUuid(p.req.Uuid)}}}
		if p.req.Target != nil {
			c.record(cmd)
			if r := c.replicas[*p.req.Target]; r != nil && r.status == ReplicaActive {
				c.send(r, cmd)
			}
		} else {
			c.broadcast(cmd)
		}
	}
	c.releaseHold(p.hold)
	c.answer(p.req, rows, err, by, result)
}

func (c *Core) answer(req PeekRequest, rows []*messages.Row, err error, by timely.ReplicaId, result string) {
	c.peekResults[result]++
	c.fx.Peeks = append(c.fx.Peeks, PeekAnswer{Uuid: req.Uuid, Client: req.Client, Rows: rows, Err: err, Replica: by, Result: result})
}

// timeoutPeeks ends the peeks whose deadline passed.
func (c *Core) timeoutPeeks(now time.Time) {
	for _, p := range c.sortedPeeks() {
		if !p.req.Deadline.IsZero() && !now.Before(p.req.Deadline) {
			c.finishPeek(p, nil, fmt.Errorf("%w: peek %s of %s at %d", ErrPeekTimedOut, p.req.Uuid, p.req.Collection, p.req.Timestamp), timely.ReplicaId{}, "timeout", true)
		}
	}
}

// failTargeting ends the peeks and subscribes that target replica id.
func (c *Core) failTargeting(id timely.ReplicaId) {
	for _, p := range c.sortedPeeks() {
		if p.req.Target != nil && *p.req.Target == id {
			c.finishPeek(p, nil, fmt.Errorf("%w: %s", ErrReplicaFailed, id), timely.ReplicaId{}, "replica_failed", true)
		}
	}
	for _, s := range c.sortedSubscribes() {
		if s.target != nil && *s.target == id {
			c.endSubscribe(s, fmt.Errorf("%w: %s", ErrReplicaFailed, id))
		}
	}
}

func (c *Core) sortedPeeks() []*pendingPeek {
	out := make([]*pendingPeek, 0, len(c.peeks))
	for _, p := range c.peeks {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *pendingPeek) int { return bytes.Compare(a.req.Uuid[:], b.req.Uuid[:]) })
	return out
}
