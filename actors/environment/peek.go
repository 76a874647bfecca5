package environment

import (
	"errors"
	"fmt"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// A peek of a table takes the persist fast path:
//
//	resolve + compile mfp/finishing -> TrackPeek (persist fast path)
//	  -> StorageSnapshot (as_of, or storage's latest complete time)
//	  -> apply mfp and finishing -> answer + ObservePeekNotification
//
// Without as_of, storage reads at its upper - 1. Storage answers a write
// only after its group commit moved every table's upper past the write's
// timestamp, and it handles requests in order, so a snapshot requested
// after the write was acknowledged sees it: the read is strict
// serializable. While the read is pending the peek can end early: a
// client cancel or disconnect, a drop of the table (through the tracker),
// or the session's statement timeout.

func (a *envActor) handlePeek(ctx actor.Context, m *messages.ClientPeek, sender *actor.PID) {
	s, err := a.session(m.GetConn())
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	if m.GetPlan() != nil {
		if !a.computeEnabled() {
			a.fail(ctx, m, sender, fmt.Errorf("peek of a plan: %w", ErrNeedsCompute))
			return
		}
		// A plan is read like a view without an index: a transient
		// dataflow.
		plan, deps, compiled, err := a.core.bindPlan("peek of a plan", m.GetPlan())
		if err != nil {
			a.fail(ctx, m, sender, err)
			return
		}
		a.handleComputePeek(ctx, m, sender, s, &object{name: "plan", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW,
			plan: plan, compiled: compiled, schema: compiled.Schema(), dependsOn: deps})
		return
	}
	name := m.GetCollection()
	o, err := a.core.Resolve(name)
	if err != nil {
		a.fail(ctx, m, sender, fmt.Errorf("peek: %w", err))
		return
	}
	if o.typ != messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE {
		a.handleComputePeek(ctx, m, sender, s, o)
		return
	}
	p, err := a.newPeek(m, sender, s, o)
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	u := p.uuid
	a.core.BeginPeek(p)
	a.cfg.Tracker.Send(querytracker.TrackPeek{Uuid: u, Conn: s.conn, DependsOn: []timely.GlobalId{o.id},
		Execution: querytracker.ExecutionId(u), Strategy: querytracker.StrategyPersistFastPath})
	a.request(ctx, a.cfg.Storage, &messages.StorageSnapshot{Tables: []*messages.GlobalId{messages.FromGlobalId(o.id)}, AsOf: m.AsOf},
		func(res any, err error) { a.handleSnapshot(ctx, u, res, err) })
}

// newPeek compiles a peek's map-filter-project and finishing against o's
// schema and returns the pending peek, with a new uuid and the session's
// deadline; an error names the peek and the problem.
func (a *envActor) newPeek(m *messages.ClientPeek, sender *actor.PID, s *session, o *object) (*pendingPeek, error) {
	mfp, err := dataflow.CompileMapFilterProject(m.GetMfp(), o.schema)
	if err != nil {
		return nil, errorf(ErrInvalidRequest, "peek %q: %v", o.name, err)
	}
	fin, err := dataflow.CompileFinishing(m.GetFinishing(), mfp.Schema())
	if err != nil {
		return nil, errorf(ErrInvalidRequest, "peek %q: %v", o.name, err)
	}
	return &pendingPeek{uuid: a.core.NewUuid(), conn: s.conn, replyTo: sender, table: o.id, name: o.name,
		deadline: a.cfg.Clock.Now().Add(s.timeout), schema: mfp.Schema(), mfp: mfp, finishing: fin, asOf: m.AsOf}, nil
}

// handleSnapshot finishes a peek with storage's answer, unless the peek
// already ended.
func (a *envActor) handleSnapshot(ctx actor.Context, u timely.Uuid, res any, err error) {
	p, ok := a.core.FinishPeek(u)
	if !ok {
		return
	}
	if err != nil {
		a.answerPeek(ctx, p, nil, fmt.Errorf("peek %q: %w", p.name, err))
		return
	}
	r, ok := res.(*messages.StorageSnapshotResponse)
	if !ok {
		a.answerPeek(ctx, p, nil, errorf(ErrInternal, "peek %q: storage answered %T", p.name, res))
		return
	}
	err = storageError(r.GetError())
	if errors.Is(err, messages.ErrNotYetReadable) && p.asOf == nil {
		// Nothing was ever committed: every table is empty.
		r, err = &messages.StorageSnapshotResponse{}, nil
	}
	if err != nil {
		if errors.Is(err, messages.ErrCompacted) && p.asOf != nil {
			// Storage's message names the table's since.
			detail := strings.TrimPrefix(err.Error(), "storage: time is before the since: ")
			err = errorf(ErrCompacted, "peek %q as of %d: that history has been compacted (%s)", p.name, *p.asOf, detail)
		} else {
			err = fmt.Errorf("peek %q: %w", p.name, err)
		}
		a.answerPeek(ctx, p, nil, err)
		return
	}
	var changes []*messages.StorageRowDiff
	for _, t := range r.GetTables() {
		changes = append(changes, t.GetRows()...)
	}
	rows, err := finishPeek(p.mfp, p.finishing, changes, a.cfg.MaxResultRows)
	if err != nil {
		a.answerPeek(ctx, p, nil, fmt.Errorf("peek %q: %w", p.name, err))
		return
	}
	resp := &messages.ClientPeekResponse{Schema: dataflow.SchemaToWire(p.schema), AsOf: r.GetAsOf(), Rows: make([]*messages.Row, len(rows))}
	for i, row := range rows {
		resp.Rows[i] = dataflow.RowToWire(row)
	}
	if n := proto.Size(resp); n > a.cfg.MaxResponseBytes {
		a.answerPeek(ctx, p, nil, errorf(ErrTooLarge, "peek %q: the result of %d rows is %d bytes, over the limit of %d; add a filter or a limit", p.name, len(rows), n, a.cfg.MaxResponseBytes))
		return
	}
	a.answerPeek(ctx, p, resp, nil)
}

// answerPeek answers a peek that left the core (resp on success, err
// otherwise) and reports its outcome to the tracker.
func (a *envActor) answerPeek(ctx actor.Context, p *pendingPeek, resp *messages.ClientPeekResponse, err error) {
	a.endComputePeek(ctx, p)
	if err != nil {
		resp = &messages.ClientPeekResponse{Error: messages.ErrorToWire(err)}
		n := querytracker.Failure(err.Error())
		if errors.Is(err, messages.ErrCanceled) {
			n = querytracker.Canceled()
		}
		a.cfg.Tracker.Send(querytracker.ObservePeekNotification{Uuid: p.uuid, Notification: n})
	} else {
		a.cfg.Tracker.Send(querytracker.ObservePeekNotification{Uuid: p.uuid,
			Notification: querytracker.Success(uint64(len(resp.GetRows())), uint64(proto.Size(resp)))})
	}
	a.reply(ctx, p.replyTo, "peek", resp, err)
	a.metrics.PendingPeeks.Set(float64(a.core.Pending()))
}

// timeoutPeek ends a peek that ran past its statement timeout.
func (a *envActor) timeoutPeek(ctx actor.Context, p *pendingPeek) {
	a.endComputePeek(ctx, p)
	a.cfg.Tracker.Send(querytracker.EndExecution{Execution: querytracker.ExecutionId(p.uuid),
		Reason: querytracker.EndReason{Kind: querytracker.EndCanceled, Message: ErrStatementTimeout.Error()}})
	resp := &messages.ClientPeekResponse{Error: messages.ErrorToWire(errorf(ErrStatementTimeout, "peek %q", p.name))}
	a.reply(ctx, p.replyTo, "peek", resp, ErrStatementTimeout)
}

// finishPeek applies a peek's map-filter-project and finishing to a
// snapshot: each row with multiplicity n counts n times. It fails when
// more than maxRows rows pass the filter.
func finishPeek(mfp *dataflow.MapFilterProject, fin *dataflow.Finishing, changes []*messages.StorageRowDiff, maxRows int) ([]dataflow.Row, error) {
	var out []dataflow.Row
	for _, c := range changes {
		n := int64(1)
		if c.Diff != nil {
			n = c.GetDiff()
		}
		if n < 0 {
			return nil, errorf(ErrInternal, "storage returned a row with multiplicity %d", n)
		}
		row, err := dataflow.RowFromWire(c.GetRow())
		if err != nil {
			return nil, errorf(ErrInternal, "storage returned an undecodable row: %v", err)
		}
		row, keep, err := mfp.Apply(row)
		if err != nil {
			return nil, errorf(ErrInvalidRequest, "evaluating the filter: %v", err)
		}
		if !keep {
			continue
		}
		if int64(len(out))+n > int64(maxRows) {
			return nil, errorf(ErrTooLarge, "more than %d rows pass the filter; add a filter or read a smaller table", maxRows)
		}
		for range n {
			out = append(out, row)
		}
	}
	return fin.Apply(out), nil
}
