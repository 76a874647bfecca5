package environment

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// A peek of a view, an index or a materialized view reads a compute
// collection through its cluster's instance:
//
//	index fast path: the view (or table) has an index, or the peek names
//	  an index or a materialized view: peek that collection;
//	transient dataflow: a view with no index: create a dataflow with an
//	  index export (a transient id) at the peek's time on the default
//	  cluster, peek it, drop it when the peek ends.
//
// Either way the time is the peek's as_of, or by default storage's upper
// - 1 asked when the peek arrives: every write acknowledged before the
// peek was sent is below that upper (see peek.go), and the instance waits
// for the collection's upper to pass the time, so the read is strict
// serializable. The instance answers with a ComputePeekResponse to the
// environment, which applies the peek's map-filter-project and finishing
// (as for a table). A peek that ends otherwise (timeout, cancel, drop,
// disconnect) sends CancelPeek to the instance; every peek gets one
// answer.

// computeTarget is what a compute peek reads.
type computeTarget struct {
	collection timely.GlobalId // the index or materialized view
	cluster    timely.ClusterId
	// plan, for a transient dataflow, is the view's plan.
	plan     *messages.Plan
	strategy querytracker.Strategy
}

// peekTarget chooses a compute peek's strategy for o.
func (a *envActor) peekTarget(o *object) (computeTarget, error) {
	switch o.typ {
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX, messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW:
		return computeTarget{collection: o.id, cluster: o.cluster, strategy: querytracker.StrategyFastPath}, nil
	}
	if ix := a.core.IndexOn(o.id); ix != nil {
		return computeTarget{collection: ix.id, cluster: ix.cluster, strategy: querytracker.StrategyFastPath}, nil
	}
	cl, ok := a.core.clusters[DefaultClusterName]
	if !ok {
		if all := a.core.Clusters(); len(all) > 0 {
			cl = all[0]
		} else {
			return computeTarget{}, errorf(messages.ErrUnavailable, "peek of view %q: it has no index and there is no cluster to compute it on", o.name)
		}
	}
	return computeTarget{cluster: cl.id, plan: o.plan, strategy: querytracker.StrategyStandard}, nil
}

func (a *envActor) handleComputePeek(ctx actor.Context, m *messages.ClientPeek, sender *actor.PID, s *session, o *object) {
	name := o.name
	if !a.computeEnabled() {
		a.fail(ctx, m, sender, fmt.Errorf("peek %s %q: %w", typeName(o.typ), name, ErrNeedsCompute))
		return
	}
	target, err := a.peekTarget(o)
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	inst, ok := a.instances[target.cluster]
	if !ok {
		a.fail(ctx, m, sender, errorf(messages.ErrUnavailable, "peek %q: its cluster %s has no running instance", name, target.cluster))
		return
	}
	p, err := a.newPeek(m, sender, s, o)
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	p.inst = inst
	u := p.uuid
	a.core.BeginPeek(p)
	deps := []timely.GlobalId{o.id}
	if o.id == (timely.GlobalId{}) {
		deps = o.dependsOn // a plan's sources
	} else if target.collection != o.id && target.plan == nil {
		deps = append(deps, target.collection)
	}
	a.cfg.Tracker.Send(querytracker.TrackPeek{Uuid: u, Conn: s.conn, Cluster: target.cluster, DependsOn: deps,
		Execution: querytracker.ExecutionId(u), Strategy: target.strategy})
	if m.AsOf != nil {
		a.issueComputePeek(ctx, p, target, timely.Timestamp(m.GetAsOf()))
		return
	}
	a.request(ctx, a.cfg.Storage, &messages.StorageFrontiers{}, func(res any, err error) {
		if _, pending := a.core.peeks[u]; !pending {
			return
		}
		var upper timely.Timestamp
		if err == nil {
			r, ok := res.(*messages.StorageFrontiersResponse)
			switch {
			case !ok:
				err = errorf(ErrInternal, "storage answered %T", res)
			case r.GetError() != nil:
				err = storageError(r.GetError())
			default:
				if f, ferr := r.GetUpper().ToTimely(); ferr == nil {
					upper, _ = f.Time()
				}
			}
		}
		if err != nil {
			if p, ok := a.core.FinishPeek(u); ok {
				a.answerPeek(ctx, p, nil, fmt.Errorf("peek %q: read storage's upper: %w", name, err))
			}
			return
		}
		ts := timely.Timestamp(0)
		if upper > 0 {
			ts = upper - 1
		}
		a.issueComputePeek(ctx, p, target, ts)
	})
}

// issueComputePeek sends the peek to the instance at ts, first creating
// its transient dataflow when it needs one.
func (a *envActor) issueComputePeek(ctx actor.Context, p *pendingPeek, target computeTarget, ts timely.Timestamp) {
	if target.plan == nil && a.awaitInstall(ctx, p, target.collection, func() { a.issueComputePeek(ctx, p, target, ts) }) {
		return
	}
	p.at = ts
	peek := func(collection timely.GlobalId) {
		remaining := p.deadline.Sub(a.cfg.Clock.Now())
		if remaining <= 0 {
			remaining = 1
		}
		ctx.Send(p.inst, instance.Peek{Uuid: p.uuid, Collection: collection, Timestamp: ts, Timeout: remaining, ReplyTo: ctx.Self()})
	}
	if target.plan == nil {
		peek(target.collection)
		return
	}
	a.transientSeq++
	id := timely.TransientId(a.transientSeq)
	desc, tables, err := a.core.describePlan(id, "peek "+p.name, target.plan, false, nil, ts)
	if err != nil {
		if p, ok := a.core.FinishPeek(p.uuid); ok {
			a.answerPeek(ctx, p, nil, fmt.Errorf("peek %q: %w", p.name, err))
		}
		return
	}
	p.transient = &id
	// Hold the tables at ts in storage until the peek ends: the
	// instance's own holds reach storage only after the dataflow exists,
	// and storage may compact past ts meanwhile.
	hold := fmt.Sprintf("env%d/peek/%s", a.epoch, p.uuid)
	acquire := &messages.StorageAcquireReadHold{HoldId: hold, At: uint64(ts)}
	for _, t := range tables {
		acquire.Tables = append(acquire.Tables, messages.FromGlobalId(t))
	}
	if len(tables) == 0 {
		a.createTransient(ctx, p, id, desc, peek)
		return
	}
	p.storageHold = hold
	// The answer comes to Receive (handleReadHoldResponse), which runs the
	// continuation; the peek's deadline bounds the wait.
	ctx.Request(a.cfg.Storage, acquire)
	a.holdWaiters[hold] = func(err error) {
		if err != nil {
			if p, ok := a.core.FinishPeek(p.uuid); ok {
				a.answerPeek(ctx, p, nil, a.computeError(p, err))
			}
			return
		}
		a.createTransient(ctx, p, id, desc, peek)
	}
}

// createTransient creates a peek's transient dataflow and then peeks it.
func (a *envActor) createTransient(ctx actor.Context, p *pendingPeek, id timely.GlobalId, desc *messages.ComputeDataflowDescription, peek func(timely.GlobalId)) {
	if _, pending := a.core.peeks[p.uuid]; !pending {
		return
	}
	a.instanceCall(ctx, p.inst, instance.CreateDataflow{Dataflow: desc}, func(err error) {
		if err != nil {
			p.transient = nil
			if p, ok := a.core.FinishPeek(p.uuid); ok {
				a.answerPeek(ctx, p, nil, a.computeError(p, err))
			}
			return
		}
		if _, pending := a.core.peeks[p.uuid]; !pending {
			// Ended while the dataflow was created: drop it now.
			ctx.Send(p.inst, instance.DropCollections{Ids: []timely.GlobalId{id}})
			return
		}
		peek(id)
	})
}

// handleComputePeekResponse finishes a compute peek with the instance's
// answer, unless it already ended.
func (a *envActor) handleComputePeekResponse(ctx actor.Context, m *messages.ComputePeekResponse) {
	u, err := m.GetUuid().ToTimely()
	if err != nil {
		return
	}
	p, ok := a.core.FinishPeek(u)
	if !ok {
		return
	}
	switch r := m.GetResult().(type) {
	case *messages.ComputePeekResponse_Canceled:
		a.answerPeek(ctx, p, nil, errorf(ErrCanceled, "peek %q: canceled by its cluster", p.name))
		return
	case *messages.ComputePeekResponse_Error:
		a.answerPeek(ctx, p, nil, a.computeError(p, messages.ErrorFromWire(r.Error)))
		return
	}
	changes := make([]*messages.StorageRowDiff, len(m.GetRows().GetRows()))
	for i, row := range m.GetRows().GetRows() {
		changes[i] = &messages.StorageRowDiff{Row: row}
	}
	rows, err := finishPeek(p.mfp, p.finishing, changes, a.cfg.MaxResultRows)
	if err != nil {
		a.answerPeek(ctx, p, nil, fmt.Errorf("peek %q: %w", p.name, err))
		return
	}
	resp := &messages.ClientPeekResponse{Schema: dataflow.SchemaToWire(p.schema), AsOf: uint64(p.at), Rows: make([]*messages.Row, len(rows))}
	for i, row := range rows {
		resp.Rows[i] = dataflow.RowToWire(row)
	}
	if n := proto.Size(resp); n > a.cfg.MaxResponseBytes {
		a.answerPeek(ctx, p, nil, errorf(ErrTooLarge, "peek %q: the result of %d rows is %d bytes, over the limit of %d; add a filter or a limit", p.name, len(rows), n, a.cfg.MaxResponseBytes))
		return
	}
	a.answerPeek(ctx, p, resp, nil)
}

// computeError names the peek in an instance's error; a time before the
// since is COMPACTED naming the time asked.
func (a *envActor) computeError(p *pendingPeek, err error) error {
	if errors.Is(err, messages.ErrCompacted) {
		return errorf(ErrCompacted, "peek %q as of %d: that history has been compacted (%v)", p.name, p.at, err)
	}
	return fmt.Errorf("peek %q: %w", p.name, err)
}

// endComputePeek tells the instance a peek ended here (canceled, timed
// out, answered) and drops its transient dataflow. The instance ignores a
// cancel of a peek it already answered.
func (a *envActor) endComputePeek(ctx actor.Context, p *pendingPeek) {
	if p.inst == nil {
		return
	}
	ctx.Send(p.inst, instance.CancelPeek{Uuid: p.uuid})
	if p.transient != nil {
		ctx.Send(p.inst, instance.DropCollections{Ids: []timely.GlobalId{*p.transient}})
		p.transient = nil
	}
	if p.storageHold != "" {
		delete(a.holdWaiters, p.storageHold)
		ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: p.storageHold})
		p.storageHold = ""
	}
}
