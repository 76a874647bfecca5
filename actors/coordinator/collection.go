package coordinator

import (
	"github.com/arbor-db/arbor/timely"
)

// Storage collections as sources. Tables share storage's common upper and
// reach the coordinator through Consume; a storage collection (a
// materialized view's shard, written by whichever cluster computes the
// view) has its own upper, which the runtime learns from the collection's
// own CDC subscription and reports with CollectionProgress. A flow's input
// frontier is the least upper over what it reads (target): a flow that
// reads only tables never waits for a collection, and one that reads a
// collection written by another flow of the same runtime waits only for
// that collection's appends, which follow the producer's committed
// checkpoints (the producer reads tables only, so nothing waits in a
// circle).
//
// A flow reading a collection advances by reads of its sources' history
// in [checkpoint, target): the tables and the collections from storage
// (range reads, which a collection answers up to its own upper) and views
// from the committed outputs. Its outputs and checkpoint commit atomically
// like any other flow's, so a restart or a rebuild starts from the
// checkpoint and neither doubles nor loses an update.

// CollectionProgress records that storage collection id is complete below
// upper (its CDC progress). An upper at or behind the known one is
// ignored. Flows reading the collection that failed a read may try again,
// and, when Idle, a backfill round is asked for. It is accepted in every
// phase: it only raises a frontier, and the step in flight reads what it
// planned with the frontier it had.
func (c *Core) CollectionProgress(id timely.GlobalId, upper timely.Timestamp) Effects {
	var eff Effects
	if upper <= c.collections[id] {
		return eff
	}
	// The record outlives the flows that read it: a progress may come
	// before the install of the flow that needs it, and uppers never
	// regress.
	c.collections[id] = upper
	for _, f := range c.flows {
		if f.collections[id] {
			f.stalled = false
		}
	}
	if c.phase == Idle && c.canBackfill() {
		eff.ContinueBackfill = true
	}
	return eff
}

// CollectionUpper returns the consumed upper of storage collection id
// (zero before its first progress).
func (c *Core) CollectionUpper(id timely.GlobalId) timely.Timestamp {
	return c.collections[id]
}
