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

// Peeks are decided by the PeekBook (peek_book.go), the pure core; the
// actor only tells it what its flows and storage look like and carries out
// the effects it returns: answers to the controller, peeks to the workers,
// snapshot reads of storage.

func (a *runtimeActor) handlePeek(ctx actor.Context, m *messages.ComputePeek) {
	a.applyPeeks(ctx, a.book.Issue(m, a.indexView, a.persistReady))
}

// indexView describes index export id to the book.
func (a *runtimeActor) indexView(id timely.GlobalId) IndexView {
	// A materialized view's flow keeps its arrangement too; peeks may read
	// it by the view's id.
	f, ok := a.flows[id]
	if !ok || f.kind == exportSubscribe {
		return IndexView{}
	}
	return IndexView{Known: true, Since: f.compaction, Until: f.df.Until, Installed: f.life.Installed(), Flow: f.spec.Id, Schema: f.spec.Plan.Schema()}
}

// applyPeeks carries out the book's effects.
func (a *runtimeActor) applyPeeks(ctx actor.Context, fx PeekEffects) {
	for _, err := range fx.Complaints {
		a.status(ctx, nil, err)
	}
	for _, ans := range fx.Answers {
		a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_PeekResponse{PeekResponse: ans.Response}})
	}
	for _, d := range fx.Dispatches {
		d.ReplyTo = ctx.Self()
		ctx.Send(a.pool, &d)
	}
	for _, u := range fx.Reads {
		a.peekPersist(ctx, u)
	}
}

func (a *runtimeActor) handlePeekReply(ctx actor.Context, m *pool.PeekReply) {
	f := a.flowOf(m.Flow)
	a.applyPeeks(ctx, a.book.PoolReply(m, f != nil && f.life.Installed()))
}

// dispatchWaiting sends the peeks waiting for an installed flow to its
// worker.
func (a *runtimeActor) dispatchWaiting(ctx actor.Context, f *flowState) {
	a.applyPeeks(ctx, a.book.FlowInstalled(f.export, a.indexView(f.export)))
}

// releasePersistPeeks starts the persist peeks whose time storage's
// upper has passed.
func (a *runtimeActor) releasePersistPeeks(ctx actor.Context) {
	a.applyPeeks(ctx, a.book.PersistProgress(a.persistReady))
}

// peekPersist reads a storage collection for persist peek u and applies
// the peek's map-filter-project and finishing.
func (a *runtimeActor) peekPersist(ctx actor.Context, u timely.Uuid) {
	m := a.book.Peek(u)
	target := m.GetPersist()
	t := timely.Timestamp(m.GetTimestamp())
	id, err := target.GetId().ToTimely()
	if err == nil {
		_, err = dataflow.SchemaFromWire(target.GetSchema())
	}
	if err != nil {
		a.applyPeeks(ctx, a.book.Fail(u, fmt.Errorf("%w: persist peek: %v", ErrInvalidCommand, err)))
		return
	}
	at := uint64(t)
	what := fmt.Sprintf("snapshot of %s at %d", id, t)
	a.call(ctx, what, &messages.StorageSnapshot{Tables: []*messages.GlobalId{target.GetId()}, AsOf: &at}, func(ctx actor.Context, res any, err error) {
		var rows []dataflow.Row
		if err == nil {
			rows, err = persistRows(what, id, target.GetSchema(), m, res)
		}
		a.applyPeeks(ctx, a.book.SnapshotDone(u, rows, err))
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
	a.applyPeeks(ctx, a.book.Cancel(m))
}

// answerRefused answers a peek command that was refused before it reached
// the book.
func (a *runtimeActor) answerRefused(ctx actor.Context, uuid *messages.Uuid, err error) {
	r := peekError(err)
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
