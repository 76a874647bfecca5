package coordinator

import (
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/timely"
)

// Compaction of the committed outputs. A materialized flow's output in
// the store is read by the flows of the runtime that read it as a view
// (backfill and rebuild reads, from their checkpoints on) and by the
// runtime (a subscribe's next batch, a materialized view's next append).
// Folding the updates before a frontier F to F (and consolidating them)
// keeps every read of [from, to) with from > F exact, and a read from 0
// exact as of F. So a flow's output may be folded to the least of
//
//   - what the runtime allows (AllowCompaction: the controller's
//     compaction frontier, bounded by the runtime's own readers);
//   - the flow's committed checkpoint (no output is committed past it);
//   - for every installed flow that reads it as a view, that reader's
//     committed checkpoint minus one (the reader has applied what comes
//     before its checkpoint, and reads on from there; a reader at zero
//     allows nothing);
//   - for every reader dropped since the runtime last allowed more, its
//     last checkpoint minus one: a reader dropped and installed again (a
//     replaced dataflow) continues from its durable checkpoint, and the
//     runtime allows more only once every reader it knows is installed
//     (so an AllowCompaction that raises the frontier forgets them).
//
// The bound is computed from committed checkpoints only, when a commit is
// built, and rides on that commit (Commit.Compaction): a reader's reads
// and batches in flight are at or after its committed checkpoint, and a
// commit that fails leaves it there.

// AllowCompaction lets the committed output of export be folded up to
// frontier, as far as the flows reading it allow. Frontiers never
// regress (an earlier one is ignored). It fails with ErrUnknownFlow when
// no flow exports it and ErrInvalidFlow when that flow is not
// materialized (it has no committed output).
func (c *Core) AllowCompaction(export timely.GlobalId, frontier timely.Timestamp) error {
	id, ok := c.byExport[export]
	if !ok {
		return fmt.Errorf("%w: no flow exports %s", ErrUnknownFlow, export)
	}
	f := c.flows[id]
	if !f.spec.Materialized {
		return fmt.Errorf("%w: flow %d (%s) is not materialized: it has no output to compact", ErrInvalidFlow, id, export)
	}
	if frontier > f.allowed {
		f.allowed = frontier
		f.heldBy = nil // the runtime vouches for the readers it knows
	}
	return nil
}

// holdProducers keeps dropped flow f's checkpoint as a bound on the folds
// of the views it read.
func (c *Core) holdProducers(f *flow) {
	for _, pid := range f.producers {
		p, ok := c.flows[pid]
		if !ok {
			continue
		}
		if p.heldBy == nil {
			p.heldBy = map[pool.FlowId]timely.Timestamp{}
		}
		p.heldBy[f.spec.Id] = f.checkpoint
	}
}

// FoldFrontier returns how far flow id's committed output may be folded
// now (zero: not at all).
func (c *Core) FoldFrontier(id timely.GlobalId) timely.Timestamp {
	fid, ok := c.byExport[id]
	if !ok {
		return 0
	}
	return c.foldFrontier(c.flows[fid])
}

func (c *Core) foldFrontier(f *flow) timely.Timestamp {
	if !f.spec.Materialized {
		return 0
	}
	t := min(f.allowed, f.checkpoint)
	for _, cp := range f.heldBy {
		if cp == 0 {
			return 0
		}
		t = min(t, cp-1)
	}
	for _, r := range c.flows {
		if t == 0 {
			break
		}
		if !slices.Contains(r.producers, f.spec.Id) {
			continue
		}
		if r.checkpoint == 0 {
			return 0
		}
		t = min(t, r.checkpoint-1)
	}
	return t
}

// compaction is the Compaction of the commit being built: every
// materialized flow whose output may be folded.
func (c *Core) compaction() map[timely.GlobalId]timely.Timestamp {
	var out map[timely.GlobalId]timely.Timestamp
	for _, f := range c.flows {
		if t := c.foldFrontier(f); t > 0 {
			if out == nil {
				out = map[timely.GlobalId]timely.Timestamp{}
			}
			out[f.spec.Export] = t
		}
	}
	return out
}
