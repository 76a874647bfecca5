package runtime

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/coordinator"
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/timely"
)

// Compaction of the output shard. The coordinator folds a materialized
// flow's committed output below what its readers can still ask for
// (coordinator/compaction.go): it knows the flows that read the output as
// a view and their checkpoints. The runtime tells it the rest with
// coordinator.AllowCompaction, for each materialized export: the least of
//
//   - the controller's AllowCompaction frontier (no peek, import or
//     replayed as_of will ask for an earlier time);
//   - a subscribe's next read: its as_of before the first batch (which
//     reports earlier updates at the as_of), the next batch's lower minus
//     one after it;
//   - a materialized view's next append: the storage collection's upper
//     as the sink last learned it, minus one (nothing before it is
//     learned);
//
// and nothing at all while a flow of the runtime that reads the output is
// not installed in the coordinator yet, or before the computation stage:
// a reader reinstalled after a restart continues from its durable
// checkpoint, so the output may not be folded past it before the
// coordinator knows it. Frontiers only grow (outputFolding remembers what
// was sent).

// outputCompaction is how far the runtime lets f's committed output be
// folded (zero: not at all).
func (a *runtimeActor) outputCompaction(f *flowState) timely.Timestamp {
	if !f.spec.Materialized || !f.life.Installed() || a.conn.Stage() != StageComputation {
		return 0
	}
	t := f.compaction
	if f.kind == exportSubscribe {
		switch s := f.sub; {
		case s == nil || s.done:
			// Dropped or complete: nothing reads its output any more.
		case !s.sent:
			t = min(t, s.asOf)
		case max(s.lower, s.asOf) == 0:
			return 0
		default:
			t = min(t, max(s.lower, s.asOf)-1)
		}
	}
	if f.mv != nil {
		if f.mv.Upper == 0 {
			return 0
		}
		t = min(t, f.mv.Upper-1)
	}
	for _, g := range a.flows {
		if g != f && !g.life.Installed() && slices.Contains(g.spec.Sources, pool.Source{Id: f.export, Kind: pool.SourceView}) {
			return 0
		}
	}
	return t
}

// allowOutputCompaction sends the coordinator every materialized
// export's compaction frontier that moved.
func (a *runtimeActor) allowOutputCompaction(ctx actor.Context) {
	if a.coord == nil {
		return
	}
	for _, f := range a.flows {
		if t := a.outputCompaction(f); t > f.outputFolding {
			f.outputFolding = t
			ctx.Send(a.coord, &coordinator.AllowCompaction{Export: f.export, Frontier: t})
		}
	}
}

// frontiersMoved runs when what the flows need may have moved (a
// checkpoint, an AllowCompaction, an install, a drop, a stage): the read
// hold on storage and the output shard's compaction follow.
func (a *runtimeActor) frontiersMoved(ctx actor.Context) {
	a.downgradeHold(ctx)
	a.allowOutputCompaction(ctx)
}
