package runtime

import (
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// handleCommand runs one compute command through the connection core and
// carries out its effects.
func (a *runtimeActor) handleCommand(ctx actor.Context, cmd *messages.ComputeCommand) {
	if err := a.precheck(cmd); err != nil {
		a.refuse(ctx, cmd, Effects{Err: err})
		return
	}
	eff := a.conn.Step(cmd)
	if eff.Err != nil {
		a.refuse(ctx, cmd, eff)
		return
	}
	if eff.Connected {
		a.connect(ctx)
	}
	for o, n := range eff.Reconciled {
		a.metrics.reconciled.WithLabelValues(o.String()).Add(float64(n))
	}
	for _, id := range eff.Drop {
		a.dropExport(ctx, id)
		if cmd.GetAllowCompaction() != nil {
			// The controller cleans a collection up once every replica
			// reports the empty write frontier. (A reconciliation drop is
			// not reported: the controller does not know the collection,
			// or builds it again under the same id.)
			a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_Frontiers{Frontiers: &messages.ComputeFrontiers{
				Id: messages.FromGlobalId(id), Write: messages.FromFrontier(timely.Closed()),
			}}})
		}
	}
	for _, k := range eff.Keep {
		a.keep(ctx, k)
	}
	for _, d := range eff.Build {
		a.enqueueBuild(ctx, d)
	}
	if eff.Initialized {
		a.frontiersMoved(ctx)
	}
	if eff.Apply != nil {
		a.apply(ctx, eff.Apply)
	}
}

// precheck refuses what the core cannot see: dropping a materialized
// view that another flow of this replica reads.
func (a *runtimeActor) precheck(cmd *messages.ComputeCommand) error {
	ac := cmd.GetAllowCompaction()
	if ac == nil || a.conn.Stage() == StageDisconnected || EpochOf(cmd.GetEpoch()) != a.conn.Epoch() {
		return nil
	}
	f, err := ac.GetFrontier().ToTimely()
	if err != nil {
		return nil // the core refuses it
	}
	if _, ok := f.Time(); ok {
		return nil
	}
	id, err := ac.GetId().ToTimely()
	if err != nil {
		return nil
	}
	for _, other := range a.flows {
		if other.export == id {
			continue
		}
		for _, s := range other.spec.Sources {
			if s.Kind == pool.SourceView && s.Id == id {
				return messages.WithObject(fmt.Errorf("%w: drop %s: it is read by %s", ErrInvalidCommand, id, other.export), id.String())
			}
		}
	}
	return nil
}

// refuse answers a refused command: a peek with its one response, any
// other command with a status error; a stale one is only logged and
// counted (its controller is gone).
func (a *runtimeActor) refuse(ctx actor.Context, cmd *messages.ComputeCommand, eff Effects) {
	if eff.Stale {
		// Counted always, logged once per kind of command (an old
		// controller may keep sending for a while).
		a.metrics.stale.Inc()
		if name := commandName(cmd); !a.staleLogged[name] {
			a.staleLogged[name] = true
			a.cfg.Logger.Warn("stale compute command rejected", "command", name, "epoch", EpochOf(cmd.GetEpoch()), "current", a.conn.Epoch())
		}
		return
	}
	a.metrics.rejected.Inc()
	if p := cmd.GetPeek(); p != nil && EpochOf(cmd.GetEpoch()) == a.conn.Epoch() {
		a.answerRefused(ctx, p.GetUuid(), eff.Err)
		return
	}
	var failed *timely.GlobalId
	if obj := messages.ErrorToWire(eff.Err).GetObject(); obj != "" {
		if id, err := timely.ParseGlobalId(obj); err == nil {
			failed = &id
		}
	}
	a.status(ctx, failed, eff.Err)
}

// connect records the new connection's controller; peeks of the old
// connection are forgotten (the controller replays the ones it still
// wants).
func (a *runtimeActor) connect(ctx actor.Context) {
	a.controller = ctx.Sender()
	if a.controller == nil {
		a.cfg.Logger.Warn("hello without a sender: responses of this connection are dropped", "epoch", a.conn.Epoch())
	}
	a.carried.controller, a.carried.epoch = a.controller, a.conn.Epoch()
	a.book.Reset()
	early := a.early
	a.early = nil
	for _, err := range early {
		a.sendStatus(ctx, nil, err)
	}
}

// apply carries out a command the core let through.
func (a *runtimeActor) apply(ctx actor.Context, cmd *messages.ComputeCommand) {
	switch m := cmd.Command.(type) {
	case *messages.ComputeCommand_CreateInstance:
		a.config = m.CreateInstance.GetConfig()
		a.carried.replica = a.config.GetReplica()
	case *messages.ComputeCommand_UpdateConfiguration:
		for k, v := range m.UpdateConfiguration.GetParams() {
			a.params[k] = v
		}
	case *messages.ComputeCommand_Schedule:
		// A flow computes from its install on, so an unscheduled flow
		// waits in the runtime's state until it is scheduled.
		id, _ := m.Schedule.GetId().ToTimely()
		if f, ok := a.flows[id]; ok {
			a.stepFlow(ctx, f, EvScheduled)
		}
	case *messages.ComputeCommand_AllowWrites:
		// A materialized view's sink appends to its storage collection
		// only from now on (mv_sink.go).
		id, _ := m.AllowWrites.GetId().ToTimely()
		if f, ok := a.flows[id]; ok && f.mv != nil {
			a.stepSink(ctx, f, SinkAllowWrites{})
		}
	case *messages.ComputeCommand_AllowCompaction:
		id, _ := m.AllowCompaction.GetId().ToTimely()
		if f, ok := a.flows[id]; ok {
			if d, ok := a.conn.Dataflow(id); ok {
				f.compaction = d.Compaction(id)
			}
			// The worker may forget the flow's output history before the
			// new since (an empty frontier drops the flow elsewhere).
			if f.compaction > 0 {
				ctx.Send(a.pool, &pool.CompactFlow{Flow: f.spec.Id, Since: f.compaction})
			}
			a.frontiersMoved(ctx)
		}
	case *messages.ComputeCommand_Peek:
		a.handlePeek(ctx, m.Peek)
	case *messages.ComputeCommand_CancelPeek:
		a.handleCancelPeek(ctx, m.CancelPeek)
	}
}

// keep re-reports a kept dataflow's state to the new controller:
// frontiers and hydration; a subscribe starts over at the replayed as_of.
func (a *runtimeActor) keep(ctx actor.Context, k Kept) {
	for _, id := range k.Dataflow.Exports {
		f, ok := a.flows[id]
		if !ok {
			continue
		}
		f.reported = frontierReport{}
		a.reportFrontier(ctx, f)
		if f.life.Installed() {
			a.hydration(ctx, id, f.life.Hydrated)
		}
		if f.sub != nil {
			f.sub = &subscribe{asOf: k.AsOf}
			a.advanceSubscribe(ctx, f)
		}
	}
}

// reportFrontier sends the export's frontiers (frontiers.go) that moved
// past what was reported.
func (a *runtimeActor) reportFrontier(ctx actor.Context, f *flowState) {
	if !f.life.Installed() || a.flows[f.export] != f {
		return
	}
	if r := f.reported.advance(f.export, f.frontiers(a.sourceFrontier)); r != nil {
		a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_Frontiers{Frontiers: r}})
	}
}

// reportFrontiers reports every export whose frontiers moved (after the
// coordinator consumed more change data, inputs advance).
func (a *runtimeActor) reportFrontiers(ctx actor.Context) {
	for _, id := range sortedExports(a.flows) {
		a.reportFrontier(ctx, a.flows[id])
	}
}

// sourceFrontier is how far a source has been fed to the flows: a table up
// to the change-data upper the coordinator consumed, a view of this
// runtime up to its checkpoint, an imported storage collection up to the
// upper last told to the coordinator (collection_feed.go).
func (a *runtimeActor) sourceFrontier(s pool.Source) timely.Frontier {
	switch s.Kind {
	case pool.SourceView:
		if p, ok := a.flows[s.Id]; ok {
			return timely.At(p.checkpoint)
		}
		return timely.Minimum()
	case pool.SourceCollection:
		if im, ok := a.imports[s.Id]; ok {
			return timely.At(im.upper)
		}
		return timely.Minimum()
	}
	return timely.At(a.consumed)
}

func sortedExports(flows map[timely.GlobalId]*flowState) []timely.GlobalId {
	ids := make([]timely.GlobalId, 0, len(flows))
	for id := range flows {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, timely.GlobalId.Compare)
	return ids
}
