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

// foldInputs is what the runtime knows that bounds the folding of one
// materialized export's committed output.
type foldInputs struct {
	// ready: the connection is in the computation stage, the export's
	// flow is installed, and so is every flow of the runtime that reads
	// its output.
	ready bool
	// compaction is the controller's AllowCompaction frontier.
	compaction timely.Timestamp
	// subscribe is the export's subscribe (nil when it is none, or one
	// dropped).
	subscribe *subscribe
	// sink is the export's materialized-view sink (nil when none).
	sink *MVSink
}

// foldBound is how far the runtime lets an export's committed output be
// folded (zero: not at all). Pure.
func foldBound(in foldInputs) timely.Timestamp {
	if !in.ready {
		return 0
	}
	t := in.compaction
	if s := in.subscribe; s != nil && !s.done {
		switch lower := max(s.lower, s.asOf); {
		case !s.sent:
			t = min(t, s.asOf) // the first batch reports earlier updates at the as_of
		case lower == 0:
			return 0
		default:
			t = min(t, lower-1)
		}
	}
	if in.sink != nil {
		if in.sink.Upper == 0 {
			return 0 // the sink's next append is not known yet
		}
		t = min(t, in.sink.Upper-1)
	}
	return t
}

// outputCompaction is foldBound for flow f.
func (a *runtimeActor) outputCompaction(f *flowState) timely.Timestamp {
	ready := f.spec.Materialized && f.life.Installed() && a.conn.Stage() == StageComputation
	for _, g := range a.flows {
		if !ready {
			break
		}
		if g != f && !g.life.Installed() && slices.Contains(g.spec.Sources, pool.Source{Id: f.export, Kind: pool.SourceView}) {
			ready = false
		}
	}
	return foldBound(foldInputs{ready: ready, compaction: f.compaction, subscribe: f.sub, sink: f.mv})
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
