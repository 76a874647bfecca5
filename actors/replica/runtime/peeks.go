package runtime

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// pendingPeek is a peek not answered yet. Every peek gets exactly one
// ComputePeekResponse: answerPeek removes it, so a late worker reply, a
// late storage answer or a second cancel finds nothing to answer.
type pendingPeek struct {
	uuid   *messages.Uuid
	peek   *messages.ComputePeek
	poolId uint64 // set once sent to the owning worker
}

func (a *runtimeActor) handlePeek(ctx actor.Context, m *messages.ComputePeek) {
	u, err := m.GetUuid().ToTimely()
	if err != nil {
		a.status(ctx, nil, fmt.Errorf("%w: peek: uuid: %v", ErrInvalidCommand, err))
		return
	}
	if _, dup := a.peeks[u]; dup {
		a.status(ctx, nil, fmt.Errorf("%w: peek %s is already pending", ErrInvalidCommand, u))
		return
	}
	p := &pendingPeek{uuid: m.GetUuid(), peek: m}
	t := timely.Timestamp(m.GetTimestamp())
	switch target := m.Target.(type) {
	case *messages.ComputePeek_Index:
		id, err := target.Index.ToTimely()
		if err != nil {
			a.answerPeek(ctx, p.uuid, peekError(fmt.Errorf("%w: peek: index: %v", ErrInvalidCommand, err)))
			return
		}
		// A materialized view's flow keeps its arrangement too; until views
		// are written to storage collections, peeking it by its id is how
		// its contents are read.
		f, ok := a.flows[id]
		if !ok || f.kind == exportSubscribe {
			a.answerPeek(ctx, p.uuid, peekError(messages.WithObject(fmt.Errorf("%w: peek: no index %s on this replica", ErrUnknownCollection, id), id.String())))
			return
		}
		if t < f.compaction {
			a.answerPeek(ctx, p.uuid, peekError(fmt.Errorf("%w: peek of %s at %d: its since is %d", ErrCompacted, id, t, f.compaction)))
			return
		}
		if beyondUntil(t, f.df.Until) {
			a.answerPeek(ctx, p.uuid, peekError(messages.WithObject(fmt.Errorf("%w: peek of %s at %d: its dataflow's until is %s", ErrBeyondUntil, id, t, f.df.Until), id.String())))
			return
		}
		a.peeks[u] = p
		if f.installed {
			a.dispatchPeek(ctx, f, p)
		} else {
			f.waiting = append(f.waiting, u)
		}
	case *messages.ComputePeek_Persist:
		a.peeks[u] = p
		if !a.persistReady(target.Persist, t) {
			// Storage is not complete at t yet: wait for the CDC
			// progress (or the sink append) that passes it.
			a.persistWaiting = append(a.persistWaiting, u)
			return
		}
		a.peekPersist(ctx, u, target.Persist, t)
	default:
		a.answerPeek(ctx, p.uuid, peekError(fmt.Errorf("%w: peek %s has no target", ErrInvalidCommand, u)))
	}
}

// dispatchPeek sends an index peek to the worker owning the flow.
func (a *runtimeActor) dispatchPeek(ctx actor.Context, f *flowState, p *pendingPeek) {
	spec, err := decodePeek(p.peek, f.spec.Plan.Schema())
	if err != nil {
		a.answerPeek(ctx, p.uuid, peekError(err))
		return
	}
	a.nextPeek++
	p.poolId = a.nextPeek
	u, _ := p.uuid.ToTimely()
	a.byPoolId[p.poolId] = u
	ctx.Send(a.pool, &pool.Peek{Id: p.poolId, Flow: f.spec.Id, Spec: spec, ReplyTo: ctx.Self()})
}

func (a *runtimeActor) handlePeekReply(ctx actor.Context, m *pool.PeekReply) {
	u, ok := a.byPoolId[m.Id]
	if !ok {
		return
	}
	delete(a.byPoolId, m.Id)
	p, ok := a.peeks[u]
	if !ok {
		return
	}
	if m.Err != nil {
		if f := a.peekedFlow(p); f != nil && errors.Is(m.Err, pool.ErrUnknownFlow) {
			// The coordinator accepts an install before the pool has
			// registered the flow, so a peek dispatched on the acceptance
			// can overtake the registration. The flow's next event comes
			// after it: the peek waits for that.
			p.poolId = 0
			f.waiting = append(f.waiting, u)
			return
		}
		a.answerPeek(ctx, p.uuid, peekError(classifyPeekErr(m.Err)))
		return
	}
	a.answerPeek(ctx, p.uuid, peekRows(m.Rows))
}

// peekedFlow returns the installed flow an index peek reads, nil when it
// is gone.
func (a *runtimeActor) peekedFlow(p *pendingPeek) *flowState {
	id, err := p.peek.GetIndex().ToTimely()
	if err != nil {
		return nil
	}
	if f, ok := a.flows[id]; ok && f.installed {
		return f
	}
	return nil
}

// dispatchWaiting sends the peeks waiting for an installed flow to its
// worker.
func (a *runtimeActor) dispatchWaiting(ctx actor.Context, f *flowState) {
	waiting := f.waiting
	f.waiting = nil
	for _, u := range waiting {
		if p, ok := a.peeks[u]; ok {
			a.dispatchPeek(ctx, f, p)
		}
	}
}

// releasePersistPeeks starts the persist peeks whose time storage's
// upper has passed.
func (a *runtimeActor) releasePersistPeeks(ctx actor.Context) {
	kept := a.persistWaiting[:0]
	for _, u := range a.persistWaiting {
		p, ok := a.peeks[u]
		if !ok {
			continue // canceled
		}
		if t := timely.Timestamp(p.peek.GetTimestamp()); a.persistReady(p.peek.GetPersist(), t) {
			a.peekPersist(ctx, u, p.peek.GetPersist(), t)
		} else {
			kept = append(kept, u)
		}
	}
	a.persistWaiting = kept
}

// peekPersist reads a storage collection at t and applies the peek's
// map-filter-project and finishing.
func (a *runtimeActor) peekPersist(ctx actor.Context, u timely.Uuid, target *messages.ComputePersistTarget, t timely.Timestamp) {
	id, err := target.GetId().ToTimely()
	if err == nil {
		_, err = dataflow.SchemaFromWire(target.GetSchema())
	}
	if err != nil {
		a.answerPeek(ctx, a.peeks[u].uuid, peekError(fmt.Errorf("%w: persist peek: %v", ErrInvalidCommand, err)))
		return
	}
	at := uint64(t)
	what := fmt.Sprintf("snapshot of %s at %d", id, t)
	a.call(ctx, what, &messages.StorageSnapshot{Tables: []*messages.GlobalId{target.GetId()}, AsOf: &at}, func(ctx actor.Context, res any, err error) {
		p, ok := a.peeks[u]
		if !ok {
			return // canceled meanwhile
		}
		var rows []dataflow.Row
		if err == nil {
			rows, err = persistRows(what, id, target.GetSchema(), p.peek, res)
		}
		if errors.Is(err, messages.ErrNotYetReadable) {
			// A collection behind the tables (its writers have not
			// appended past t yet): wait for more progress.
			a.persistWaiting = append(a.persistWaiting, u)
			return
		}
		if err != nil {
			a.answerPeek(ctx, p.uuid, peekError(err))
			return
		}
		a.answerPeek(ctx, p.uuid, peekRows(rows))
	})
}

// persistReady reports whether a persist peek at t may read storage now:
// a collection a sink of this runtime writes is complete below the upper
// the sink knows; anything else (a table, or a collection only another
// replica writes) is tried once the tables' upper passed t, and a
// collection that is behind sends the peek back to wait.
func (a *runtimeActor) persistReady(target *messages.ComputePersistTarget, t timely.Timestamp) bool {
	if id, err := target.GetId().ToTimely(); err == nil {
		if upper, ok := a.sinkUpper(id); ok && t >= upper {
			return false
		}
	}
	return a.feed != nil && t < a.feed.upper
}

func persistRows(what string, id timely.GlobalId, schemaW *messages.Schema, m *messages.ComputePeek, res any) ([]dataflow.Row, error) {
	snap, ok := res.(*messages.StorageSnapshotResponse)
	if !ok {
		return nil, fmt.Errorf("%w: %s: unexpected answer %T", ErrStorage, what, res)
	}
	if err := storageErr(ErrStorage, what, snap.GetError()); err != nil {
		return nil, err
	}
	schema, err := dataflow.SchemaFromWire(schemaW)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidCommand, what, err)
	}
	spec, err := decodePeek(m, schema)
	if err != nil {
		return nil, err
	}
	var rows []dataflow.Row
	for _, tc := range snap.GetTables() {
		for _, rd := range tc.GetRows() {
			row, err := dataflow.RowFromWire(rd.GetRow())
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrStorage, what, err)
			}
			if spec.Key != nil && !keyMatches(row, spec.Key) {
				continue
			}
			if spec.MFP != nil {
				out, keep, err := spec.MFP.Apply(row)
				if err != nil {
					return nil, fmt.Errorf("%w: %s: %v", ErrInvalidCommand, what, err)
				}
				if !keep {
					continue
				}
				row = out
			}
			n := int64(1)
			if rd.Diff != nil {
				n = rd.GetDiff()
			}
			if n < 0 {
				return nil, fmt.Errorf("%w: %s: row %s has a negative multiplicity %d", ErrStorage, what, row, n)
			}
			for ; n > 0; n-- {
				rows = append(rows, row)
			}
		}
	}
	if spec.Finishing != nil {
		rows = spec.Finishing.Apply(rows)
	}
	return rows, nil
}

// keyMatches: a persist peek's key is a prefix of the row (storage
// collections are not arranged; the key restricts the leading columns).
func keyMatches(row, key dataflow.Row) bool {
	if len(key) > len(row) {
		return false
	}
	return row[:len(key)].Compare(key) == 0
}

func (a *runtimeActor) handleCancelPeek(ctx actor.Context, m *messages.ComputeCancelPeek) {
	u, err := m.GetUuid().ToTimely()
	if err != nil {
		return
	}
	p, ok := a.peeks[u]
	if !ok {
		return // answered already: nothing more
	}
	a.answerPeek(ctx, p.uuid, &messages.ComputePeekResponse{Result: &messages.ComputePeekResponse_Canceled{Canceled: &messages.ComputePeekCanceled{}}})
}

// answerPeek sends a peek's one response and forgets the peek.
func (a *runtimeActor) answerPeek(ctx actor.Context, uuid *messages.Uuid, r *messages.ComputePeekResponse) {
	if u, err := uuid.ToTimely(); err == nil {
		if p, ok := a.peeks[u]; ok {
			delete(a.byPoolId, p.poolId)
			delete(a.peeks, u)
		}
	}
	r.Uuid = uuid
	a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_PeekResponse{PeekResponse: r}})
}

func peekError(err error) *messages.ComputePeekResponse {
	return &messages.ComputePeekResponse{Result: &messages.ComputePeekResponse_Error{Error: messages.ErrorToWire(err)}}
}

func peekRows(rows []dataflow.Row) *messages.ComputePeekResponse {
	return &messages.ComputePeekResponse{Result: &messages.ComputePeekResponse_Rows{Rows: &messages.ComputePeekRows{Rows: rowsToWire(rows)}}}
}

// classifyPeekErr gives a worker's peek error its wire code.
func classifyPeekErr(err error) error {
	switch {
	case errors.Is(err, dataflow.ErrCompacted):
		return fmt.Errorf("%w: %w", ErrCompacted, err)
	case errors.Is(err, pool.ErrFlowDropped):
		return fmt.Errorf("%w: %w", ErrDropped, err)
	case errors.Is(err, dataflow.ErrInvalidRow):
		return fmt.Errorf("%w: %w", ErrInvalidCommand, err)
	}
	return fmt.Errorf("%w: %w", ErrFlow, err)
}
