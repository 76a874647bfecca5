package runtime

import (
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/coordinator"
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// flowState is one export of an installed dataflow: one coordinator flow.
type flowState struct {
	export timely.GlobalId
	kind   exportKind
	df     *Dataflow
	spec   pool.FlowSpec

	// life is where the flow stands (lifecycle.go): queued, checked, sent
	// to the coordinator, installed, dropped; scheduled; hydrated.
	life FlowLife
	// checkpoint is the committed write frontier; reported is what was
	// sent of the export's frontiers to the controller (they never
	// regress; frontiers.go).
	checkpoint timely.Timestamp
	reported   frontierReport
	// compaction is the controller's AllowCompaction frontier (the as_of
	// until one arrives): peeks before it are refused.
	compaction timely.Timestamp
	// outputFolding is the last frontier sent to the coordinator to which
	// the flow's committed output may be folded (output_compaction.go).
	outputFolding timely.Timestamp
	sub           *subscribe
	// mv is a materialized view's sink into its storage collection
	// (sink.go, mv_sink.go); nil for other exports.
	mv *MVSink
}

// build is a dataflow waiting for storage to confirm its tables; the
// BuildQueue (build_queue.go) decides when each is checked, installed or
// failed, by key.
type build struct {
	df    *Dataflow
	flows []*flowState
}

// enqueueBuild plans a dataflow's exports as flows and queues the build.
// A description that does not plan or compile is refused whole.
func (a *runtimeActor) enqueueBuild(ctx actor.Context, d *Dataflow) {
	efs, err := planExports(d.Desc, func(id timely.GlobalId) (dataflow.Schema, bool) {
		f, ok := a.flows[id]
		if !ok || f.kind != exportIndex {
			return nil, false
		}
		return f.spec.Plan.Schema(), true
	})
	var flows []*flowState
	for _, ef := range efs {
		if err != nil {
			break
		}
		var spec pool.FlowSpec
		if spec, err = a.compile(d, ef); err == nil {
			f := &flowState{export: ef.export, kind: ef.kind, df: d, spec: spec, compaction: d.AsOf, life: NewFlowLife()}
			if ef.kind == exportSubscribe {
				f.sub = &subscribe{asOf: d.AsOf}
			}
			if ef.collection != nil {
				f.mv = NewMVSink(*ef.collection, spec.AsOf, d.Until)
			}
			flows = append(flows, f)
		}
	}
	if err != nil {
		a.conn.Forget(d)
		a.status(ctx, &d.Exports[0], err)
		return
	}
	for _, f := range flows {
		a.flows[f.export] = f
	}
	a.nextBuildKey++
	key := a.nextBuildKey
	a.builds[key] = &build{df: d, flows: flows}
	ev := BuildEnqueued{Key: key}
	for _, f := range flows {
		ev.Exports = append(ev.Exports, f.export)
		for _, s := range f.spec.Sources {
			if (s.Kind == pool.SourceTable || s.Kind == pool.SourceCollection) && !slices.Contains(ev.Tables, s.Id) {
				ev.Tables = append(ev.Tables, s.Id)
			}
		}
	}
	a.stepBuilds(ctx, ev)
}

// compile turns an export into a flow spec: its plan (arranged by the
// index key), its sources (views when an index or a materialized view of
// this runtime produces them, tables otherwise) and its as_of. Every flow
// is materialized: an index's committed output is what its importers read
// (describe.go).
func (a *runtimeActor) compile(d *Dataflow, ef exportFlow) (pool.FlowSpec, error) {
	schemas := map[timely.GlobalId]dataflow.Schema{}
	var sources []pool.Source
	ids := make([]timely.GlobalId, 0, len(ef.object.sources))
	for id := range ef.object.sources {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, timely.GlobalId.Compare)
	for _, id := range ids {
		schema, err := dataflow.SchemaFromWire(ef.object.sources[id].GetSchema())
		if err != nil {
			return pool.FlowSpec{}, fmt.Errorf("%w: dataflow %q: source %s: %v", ErrInvalidCommand, d.Desc.GetDebugName(), id, err)
		}
		schemas[id] = schema
		kind := pool.SourceTable
		if ef.object.sources[id].GetCollection() {
			kind = pool.SourceCollection // read from storage (collection_feed.go)
		} else if p, ok := a.flows[id]; ok && (p.kind == exportMaterializedView || p.kind == exportIndex) {
			kind = pool.SourceView
		}
		sources = append(sources, pool.Source{Id: id, Kind: kind})
	}
	plan := ef.object.plan
	if ef.kind == exportIndex && len(ef.key) > 0 {
		arr := &messages.ArrangeByPlan{Input: plan}
		for _, k := range ef.key {
			arr.Key = append(arr.Key, &messages.ColumnRef{Ref: &messages.ColumnRef_Index{Index: k}})
		}
		plan = &messages.Plan{Node: &messages.Plan_ArrangeBy{ArrangeBy: arr}}
	}
	compiled, err := dataflow.Compile(plan, schemas)
	if err != nil {
		return pool.FlowSpec{}, messages.WithObject(fmt.Errorf("%w: dataflow %q: export %s: %v", ErrInvalidCommand, d.Desc.GetDebugName(), ef.export, err), ef.export.String())
	}
	// Keep only the sources the plan reads, in its order.
	used := map[timely.GlobalId]bool{}
	for _, id := range compiled.Sources() {
		used[id] = true
	}
	kept := slices.DeleteFunc(sources, func(s pool.Source) bool { return !used[s.Id] })
	return pool.FlowSpec{
		Id:           FlowIdOf(ef.export),
		Export:       ef.export,
		Plan:         compiled,
		Sources:      kept,
		AsOf:         d.AsOf,
		Materialized: true,
		TickInterval: a.cfg.TickInterval,
	}, nil
}

// stepBuilds applies ev to the build queue and carries out its effects:
// a refused build fails, checked builds install, the next check goes to
// storage. An event the queue does not take is stale: ignored.
func (a *runtimeActor) stepBuilds(ctx actor.Context, ev BuildEvent) {
	fx, err := a.buildQueue.Step(ev)
	if err != nil {
		a.cfg.Logger.Debug("build event ignored", "err", err)
		return
	}
	if fx.Fail != nil {
		if b, ok := a.builds[fx.Fail.Key]; ok {
			delete(a.builds, fx.Fail.Key)
			a.failBuild(ctx, b, fx.Fail.Err)
		}
	}
	for _, key := range fx.Install {
		if b, ok := a.builds[key]; ok {
			delete(a.builds, key)
			a.install(ctx, b)
		}
	}
	for _, key := range fx.Gone {
		delete(a.builds, key)
	}
	if c := fx.Check; c != nil {
		b := a.builds[c.Key]
		req := &messages.StorageFrontiers{}
		for _, id := range c.Tables {
			req.Tables = append(req.Tables, messages.FromGlobalId(id))
		}
		what := fmt.Sprintf("check the tables of dataflow %q (%s)", b.df.Desc.GetDebugName(), b.df.Exports[0])
		a.call(ctx, what, req, func(ctx actor.Context, res any, err error) {
			if err == nil {
				err = tablesErr(what, res)
			}
			if err == nil && len(b.flows) > 0 {
				err = a.checkImports(ctx, b, res)
			}
			a.stepBuilds(ctx, BuildChecked{Key: c.Key, Err: err})
		})
	}
}

func tablesErr(what string, res any) error {
	fr, ok := res.(*messages.StorageFrontiersResponse)
	if !ok {
		return fmt.Errorf("%w: %s: unexpected answer %T", ErrStorage, what, res)
	}
	return storageErr(ErrInvalidCommand, what, fr.GetError())
}

// failBuild forgets a dataflow whose tables storage refused.
func (a *runtimeActor) failBuild(ctx actor.Context, b *build, err error) {
	for _, f := range b.flows {
		a.forgetFlow(ctx, f, err)
	}
	a.conn.Forget(b.df)
	a.status(ctx, &b.df.Exports[0], err)
	a.frontiersMoved(ctx)
}

// forgetFlow removes a flow the coordinator does not run, failing the
// peeks that waited for it.
func (a *runtimeActor) forgetFlow(ctx actor.Context, f *flowState, err error) {
	if f.life.Stage != StageDropped {
		_, _ = f.life.Step(EvDropped)
	}
	if f.mv != nil {
		_, _ = f.mv.Step(SinkDrop{})
	}
	if a.flows[f.export] == f {
		delete(a.flows, f.export)
	}
	a.applyPeeks(ctx, a.book.FlowGone(f.export, err))
}

// install marks a checked build's flows checked; those already scheduled
// install now, the others when their Schedule comes.
func (a *runtimeActor) install(ctx actor.Context, b *build) {
	for _, f := range b.flows {
		a.stepFlow(ctx, f, EvChecked)
	}
	a.frontiersMoved(ctx)
}

// stepFlow applies a lifecycle event to a flow (lifecycle.go) and carries
// out its effects. An event the flow's stage does not take is stale (a
// reply for a flow dropped or rebuilt meanwhile): ignored.
func (a *runtimeActor) stepFlow(ctx actor.Context, f *flowState, ev FlowEvent) {
	fx, err := f.life.Step(ev)
	if err != nil {
		a.cfg.Logger.Debug("flow event ignored", "export", f.export, "err", err)
		return
	}
	if fx.Install {
		ctx.Request(a.coord, &coordinator.InstallFlow{Spec: f.spec})
	}
	if fx.Accepted {
		a.hydration(ctx, f.export, false)
		a.reportFrontier(ctx, f)
		a.dispatchWaiting(ctx, f)
		a.advanceSubscribe(ctx, f)
		if f.mv != nil {
			a.stepSink(ctx, f, SinkCommitted{Checkpoint: f.checkpoint})
			a.stepSink(ctx, f, SinkInstalled{})
		}
	}
	if fx.Hydrated {
		a.hydration(ctx, f.export, true)
		a.reportFrontier(ctx, f)
	}
	if fx.Cancel {
		ctx.Request(a.coord, &coordinator.DropFlow{Flow: f.spec.Id})
	}
}

func (a *runtimeActor) flowOf(id pool.FlowId) *flowState {
	for _, f := range a.flows {
		if f.spec.Id == id {
			return f
		}
	}
	return nil
}

func (a *runtimeActor) handleInstallReply(ctx actor.Context, m *coordinator.InstallFlowReply) {
	f := a.flowOf(m.Flow)
	if f == nil || f.life.Stage != StageSent {
		return // dropped, or a rebuilt flow whose install is not sent yet
	}
	if m.Err != nil {
		err := messages.WithObject(fmt.Errorf("%w: install %s: %w", ErrInvalidCommand, f.export, m.Err), f.export.String())
		a.forgetFlow(ctx, f, err)
		if d, ok := a.conn.Dataflow(f.export); ok && d == f.df {
			a.conn.Forget(d)
		}
		a.status(ctx, &f.export, err)
		return
	}
	f.checkpoint = max(f.checkpoint, m.Checkpoint)
	a.stepFlow(ctx, f, EvAccepted)
	a.allowOutputCompaction(ctx) // a reader installed may let its views fold
}

// dropExport drops the flow of one export: queued, it never installs;
// installed, the coordinator drops it.
func (a *runtimeActor) dropExport(ctx actor.Context, id timely.GlobalId) {
	f, ok := a.flows[id]
	if !ok {
		return
	}
	fx, _ := f.life.Step(EvDropped)
	a.forgetFlow(ctx, f, messages.WithObject(fmt.Errorf("%w: %s", ErrDropped, id), id.String()))
	for _, b := range a.builds {
		if j := slices.Index(b.flows, f); j >= 0 {
			b.flows = slices.Delete(b.flows, j, j+1)
			break
		}
	}
	a.stepBuilds(ctx, BuildForget{Export: id})
	if f.sub != nil {
		a.endSubscribe(ctx, f)
	}
	if fx.Cancel {
		ctx.Request(a.coord, &coordinator.DropFlow{Flow: f.spec.Id})
	}
	a.frontiersMoved(ctx)
}

func (a *runtimeActor) handleDropReply(ctx actor.Context, m *coordinator.DropFlowReply) {
	if m.Err != nil {
		a.status(ctx, nil, fmt.Errorf("%w: drop flow %d: %w", ErrFlow, m.Flow, m.Err))
	}
}

func (a *runtimeActor) handleFlowEvents(ctx actor.Context, m *coordinator.FlowEvents) {
	for _, e := range m.Events {
		failIfOutputsMoved(e.Err)
		f, ok := a.flows[e.Export]
		if !ok || f.spec.Id != e.Flow {
			continue
		}
		if f.life.Installed() && a.book.Waiting(f.export) {
			// Peeks that overtook the flow's registration with the pool
			// (handlePeekReply): any event of the flow comes after it.
			a.dispatchWaiting(ctx, f)
		}
		switch e.Kind {
		case coordinator.FrontierAdvanced:
			f.checkpoint = max(f.checkpoint, e.Upper)
			a.reportFrontier(ctx, f)
			a.advanceSubscribe(ctx, f)
			if f.mv != nil {
				a.stepSink(ctx, f, SinkCommitted{Checkpoint: f.checkpoint})
			}
		case coordinator.Hydrated:
			a.stepFlow(ctx, f, EvHydrated)
		case coordinator.FlowFailed:
			err := messages.WithObject(fmt.Errorf("%w: %s: %w", ErrFlow, f.export, e.Err), f.export.String())
			if e.Removed {
				a.forgetFlow(ctx, f, err)
			}
			a.status(ctx, &f.export, err)
		}
	}
	a.frontiersMoved(ctx)
}
