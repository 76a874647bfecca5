package runtime

import (
	"errors"
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// PeekBook is the runtime's pure core for peeks: which are pending, what
// each waits for, and the rule that every peek gets exactly one
// ComputePeekResponse. It does no I/O; each method returns PeekEffects
// for the actor to carry out. A peek is in one of these places:
//
//	              ┌──────────── index not installed yet ───► waiting for its flow ─┐
//	Issue ────────┤                                                               │ FlowInstalled
//	  (index)     └──── installed ──► dispatched to the worker ◄──────────────────┘
//	                                        │    ▲ the worker does not know the flow yet:
//	                                        │    └─ back to waiting (FlowInstalled again)
//	                                        └── PoolReply ──► answered
//	Issue ──── storage not complete at t ──► waiting for storage ──PersistProgress──┐
//	(persist)  └── complete ──────────────────────────────────────────────────────► read
//	                  read ── SnapshotDone: not yet readable ──► waiting for storage
//	                       └─ SnapshotDone: rows or an error ──► answered
//
// Cancel answers a pending peek "canceled" wherever it is; FlowGone
// answers the peeks waiting for or dispatched to a flow that went away;
// Reset (a new connection) forgets every peek without an answer (the new
// controller replays the ones it still wants). An answered peek is
// forgotten, so a late worker reply, storage answer or second cancel
// finds nothing and produces nothing.
type PeekBook struct {
	pending map[timely.Uuid]*bookPeek
	// byPool maps a dispatched peek's pool request id to the peek.
	byPool   map[uint64]timely.Uuid
	nextPool uint64
	// waitingFlow: index peeks per index export, in arrival order.
	waitingFlow map[timely.GlobalId][]timely.Uuid
	// waitingStorage: persist peeks whose time storage is not complete
	// at, in arrival order.
	waitingStorage []timely.Uuid
}

// bookPeek is one pending peek.
type bookPeek struct {
	uuid *messages.Uuid
	peek *messages.ComputePeek
	// index is the index export an index peek reads (nil: persist).
	index *timely.GlobalId
	// pool is the pool request id while dispatched (0: not).
	pool uint64
	// reading: a persist peek's snapshot is in flight.
	reading bool
}

// IndexView is what the book needs to know of the index a peek reads; the
// actor fills it from its flows.
type IndexView struct {
	// Known: an index (or materialized view) export of that id is
	// installed or being installed; a subscribe is not peekable.
	Known bool
	// Since and Until bound the times it can be read at.
	Since timely.Timestamp
	Until timely.Frontier
	// Installed: the coordinator accepted its flow; Flow and Schema are
	// the flow's id and output schema.
	Installed bool
	Flow      pool.FlowId
	Schema    dataflow.Schema
}

// PeekAnswer is one peek's response, to send to the controller.
type PeekAnswer struct {
	Uuid     *messages.Uuid
	Response *messages.ComputePeekResponse
}

// PeekEffects is what the actor does after a PeekBook step: send the
// answers to the controller, the dispatches to the pool (with itself as
// ReplyTo), and read storage for the persist peeks in Reads.
type PeekEffects struct {
	Answers    []PeekAnswer
	Dispatches []pool.Peek
	// Reads are persist peeks whose storage snapshot to read now.
	Reads []timely.Uuid
	// Complaints are commands refused without a peek to answer (a peek
	// whose uuid does not decode, a duplicate uuid): reported as a status
	// error.
	Complaints []error
}

// NewPeekBook returns an empty book.
func NewPeekBook() *PeekBook {
	return &PeekBook{pending: map[timely.Uuid]*bookPeek{}, byPool: map[uint64]timely.Uuid{}, waitingFlow: map[timely.GlobalId][]timely.Uuid{}}
}

// Pending returns the number of pending peeks.
func (b *PeekBook) Pending() int { return len(b.pending) }

// Peek returns a pending peek's command (nil when it is not pending).
func (b *PeekBook) Peek(u timely.Uuid) *messages.ComputePeek {
	if p := b.pending[u]; p != nil {
		return p.peek
	}
	return nil
}

// Issue starts a peek. index describes the index it reads (ignored for a
// persist peek); persistReady says whether storage is complete at the
// peek's time for a persist peek.
func (b *PeekBook) Issue(m *messages.ComputePeek, index func(timely.GlobalId) IndexView, persistReady func(*messages.ComputePersistTarget, timely.Timestamp) bool) PeekEffects {
	var fx PeekEffects
	u, err := m.GetUuid().ToTimely()
	if err != nil {
		fx.Complaints = append(fx.Complaints, fmt.Errorf("%w: peek: uuid: %v", ErrInvalidCommand, err))
		return fx
	}
	if _, dup := b.pending[u]; dup {
		fx.Complaints = append(fx.Complaints, fmt.Errorf("%w: peek %s is already pending", ErrInvalidCommand, u))
		return fx
	}
	p := &bookPeek{uuid: m.GetUuid(), peek: m}
	t := timely.Timestamp(m.GetTimestamp())
	switch target := m.Target.(type) {
	case *messages.ComputePeek_Index:
		id, err := target.Index.ToTimely()
		if err != nil {
			fx.answer(p.uuid, peekError(fmt.Errorf("%w: peek: index: %v", ErrInvalidCommand, err)))
			return fx
		}
		v := index(id)
		switch {
		case !v.Known:
			fx.answer(p.uuid, peekError(messages.WithObject(fmt.Errorf("%w: peek: no index %s on this replica", ErrUnknownCollection, id), id.String())))
			return fx
		case t < v.Since:
			fx.answer(p.uuid, peekError(fmt.Errorf("%w: peek of %s at %d: its since is %d", ErrCompacted, id, t, v.Since)))
			return fx
		case beyondUntil(t, v.Until):
			fx.answer(p.uuid, peekError(messages.WithObject(fmt.Errorf("%w: peek of %s at %d: its dataflow's until is %s", ErrBeyondUntil, id, t, v.Until), id.String())))
			return fx
		}
		p.index = &id
		b.pending[u] = p
		if v.Installed {
			b.dispatch(&fx, u, p, v)
		} else {
			b.waitingFlow[id] = append(b.waitingFlow[id], u)
		}
	case *messages.ComputePeek_Persist:
		b.pending[u] = p
		if persistReady(target.Persist, t) {
			p.reading = true
			fx.Reads = append(fx.Reads, u)
		} else {
			b.waitingStorage = append(b.waitingStorage, u)
		}
	default:
		fx.answer(p.uuid, peekError(fmt.Errorf("%w: peek %s has no target", ErrInvalidCommand, u)))
	}
	return fx
}

// dispatch sends an index peek to the worker owning its flow.
func (b *PeekBook) dispatch(fx *PeekEffects, u timely.Uuid, p *bookPeek, v IndexView) {
	spec, err := decodePeek(p.peek, v.Schema)
	if err != nil {
		b.answer(fx, u, peekError(err))
		return
	}
	b.nextPool++
	p.pool = b.nextPool
	b.byPool[p.pool] = u
	fx.Dispatches = append(fx.Dispatches, pool.Peek{Id: p.pool, Flow: v.Flow, Spec: spec})
}

// FlowInstalled dispatches the peeks waiting for index export id, now
// installed as v.
func (b *PeekBook) FlowInstalled(id timely.GlobalId, v IndexView) PeekEffects {
	var fx PeekEffects
	waiting := b.waitingFlow[id]
	delete(b.waitingFlow, id)
	for _, u := range waiting {
		if p := b.pending[u]; p != nil {
			b.dispatch(&fx, u, p, v)
		}
	}
	return fx
}

// Waiting reports whether peeks wait for index export id.
func (b *PeekBook) Waiting(id timely.GlobalId) bool { return len(b.waitingFlow[id]) > 0 }

// FlowGone answers with err every peek of index export id that waits for
// its flow or was dispatched to it.
func (b *PeekBook) FlowGone(id timely.GlobalId, err error) PeekEffects {
	var fx PeekEffects
	for _, u := range b.sorted() {
		if p := b.pending[u]; p.index != nil && *p.index == id {
			b.answer(&fx, u, peekError(err))
		}
	}
	delete(b.waitingFlow, id)
	return fx
}

// PoolReply applies a worker's answer. A worker that does not know the
// flow yet (the coordinator accepts an install before the pool registered
// it) sends the peek back to wait for its flow: the flow's next event
// comes after the registration (stillInstalled says the flow is still
// there).
func (b *PeekBook) PoolReply(m *pool.PeekReply, stillInstalled bool) PeekEffects {
	var fx PeekEffects
	u, ok := b.byPool[m.Id]
	if !ok {
		return fx
	}
	delete(b.byPool, m.Id)
	p := b.pending[u]
	if p == nil {
		return fx
	}
	p.pool = 0
	switch {
	case m.Err != nil && errors.Is(m.Err, pool.ErrUnknownFlow) && stillInstalled:
		b.waitingFlow[*p.index] = append(b.waitingFlow[*p.index], u)
	case m.Err != nil:
		b.answer(&fx, u, peekError(classifyPeekErr(m.Err)))
	default:
		b.answer(&fx, u, peekRows(m.Rows))
	}
	return fx
}

// PersistProgress starts the reads of the persist peeks storage is now
// complete at.
func (b *PeekBook) PersistProgress(ready func(*messages.ComputePersistTarget, timely.Timestamp) bool) PeekEffects {
	var fx PeekEffects
	kept := b.waitingStorage[:0]
	for _, u := range b.waitingStorage {
		p := b.pending[u]
		if p == nil {
			continue // answered meanwhile
		}
		if ready(p.peek.GetPersist(), timely.Timestamp(p.peek.GetTimestamp())) {
			p.reading = true
			fx.Reads = append(fx.Reads, u)
		} else {
			kept = append(kept, u)
		}
	}
	b.waitingStorage = kept
	return fx
}

// SnapshotDone applies the outcome of a persist peek's read: rows, an
// error, or storage not readable at the time yet (the peek waits again).
func (b *PeekBook) SnapshotDone(u timely.Uuid, rows []dataflow.Row, err error) PeekEffects {
	var fx PeekEffects
	p := b.pending[u]
	if p == nil || !p.reading {
		return fx // canceled meanwhile
	}
	p.reading = false
	switch {
	case errors.Is(err, messages.ErrNotYetReadable):
		b.waitingStorage = append(b.waitingStorage, u)
	case err != nil:
		b.answer(&fx, u, peekError(err))
	default:
		b.answer(&fx, u, peekRows(rows))
	}
	return fx
}

// Cancel answers a pending peek "canceled"; an unknown or answered one is
// ignored.
func (b *PeekBook) Cancel(m *messages.ComputeCancelPeek) PeekEffects {
	var fx PeekEffects
	u, err := m.GetUuid().ToTimely()
	if err != nil || b.pending[u] == nil {
		return fx
	}
	b.answer(&fx, u, &messages.ComputePeekResponse{Result: &messages.ComputePeekResponse_Canceled{Canceled: &messages.ComputePeekCanceled{}}})
	return fx
}

// Fail answers a pending peek with err (a refused read of storage).
func (b *PeekBook) Fail(u timely.Uuid, err error) PeekEffects {
	var fx PeekEffects
	if b.pending[u] != nil {
		b.answer(&fx, u, peekError(err))
	}
	return fx
}

// Reset forgets every peek without answering (a new connection: the old
// controller is gone; the new one replays the peeks it still wants).
// Pool request ids keep counting, so that a late worker reply to a peek
// of the old connection cannot be taken for one of the new.
func (b *PeekBook) Reset() {
	next := b.nextPool
	*b = *NewPeekBook()
	b.nextPool = next
}

// answer forgets peek u and records its one response.
func (b *PeekBook) answer(fx *PeekEffects, u timely.Uuid, r *messages.ComputePeekResponse) {
	p := b.pending[u]
	delete(b.pending, u)
	delete(b.byPool, p.pool)
	if p.index != nil {
		b.waitingFlow[*p.index] = slices.DeleteFunc(b.waitingFlow[*p.index], func(w timely.Uuid) bool { return w == u })
		if len(b.waitingFlow[*p.index]) == 0 {
			delete(b.waitingFlow, *p.index)
		}
	}
	b.waitingStorage = slices.DeleteFunc(b.waitingStorage, func(w timely.Uuid) bool { return w == u })
	fx.answer(p.uuid, r)
}

func (fx *PeekEffects) answer(uuid *messages.Uuid, r *messages.ComputePeekResponse) {
	r.Uuid = uuid
	fx.Answers = append(fx.Answers, PeekAnswer{Uuid: uuid, Response: r})
}

func (b *PeekBook) sorted() []timely.Uuid {
	out := make([]timely.Uuid, 0, len(b.pending))
	for u := range b.pending {
		out = append(out, u)
	}
	slices.SortFunc(out, func(x, y timely.Uuid) int {
		for i := range x {
			if x[i] != y[i] {
				return int(x[i]) - int(y[i])
			}
		}
		return 0
	})
	return out
}

// checkInvariants verifies the book's bookkeeping (scripted tests call it
// after every step): every waiting or dispatched peek is pending, in one
// place only.
func (b *PeekBook) checkInvariants() error {
	where := map[timely.Uuid]string{}
	put := func(u timely.Uuid, place string) error {
		if b.pending[u] == nil {
			return fmt.Errorf("peek %s is %s but not pending", u, place)
		}
		if w, ok := where[u]; ok {
			return fmt.Errorf("peek %s is %s and %s", u, w, place)
		}
		where[u] = place
		return nil
	}
	for id, us := range b.waitingFlow {
		for _, u := range us {
			if err := put(u, "waiting for "+id.String()); err != nil {
				return err
			}
		}
	}
	for _, u := range b.waitingStorage {
		if err := put(u, "waiting for storage"); err != nil {
			return err
		}
	}
	for id, u := range b.byPool {
		if err := put(u, fmt.Sprintf("dispatched as %d", id)); err != nil {
			return err
		}
		if b.pending[u].pool != id {
			return fmt.Errorf("peek %s dispatched as %d records %d", u, id, b.pending[u].pool)
		}
	}
	for u, p := range b.pending {
		if p.reading {
			if err := put(u, "reading storage"); err != nil {
				return err
			}
		}
		if _, ok := where[u]; !ok {
			return fmt.Errorf("peek %s is pending but nowhere", u)
		}
	}
	return nil
}
