package coordinator

import (
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// submitConsume routes the Consume in progress to the active flows, in
// producer-before-reader order:
//
//   - a flow is routed when one of its tables, direct or reached through
//     views, changed;
//   - a flow reading a view whose producer is routed, demoted or not active
//     is demoted to backfilling: the view's changes for these versions are
//     not committed yet, and the flow must never read uncommitted output;
//   - a flow reading a storage collection (direct or through views) gets
//     no batch: its input frontier is not the tables', and it advances by
//     reads (backfill.go) up to its target;
//   - every other active flow gets a batch with its direct tables' changes
//     (possibly none), which advances it to the new upper.
//
// The pool groups the batches by worker.
func (c *Core) submitConsume(eff *Effects) {
	routed := map[pool.FlowId]bool{}
	demoted := map[pool.FlowId]bool{}
	var batches []pool.FlowBatch
	for _, id := range c.order {
		f := c.flows[id]
		if f.state != FlowActive || len(f.collections) > 0 {
			continue
		}
		demote := false
		for _, p := range f.producers {
			if pf := c.flows[p]; pf.state != FlowActive || routed[p] || demoted[p] {
				demote = true
			}
		}
		if demote {
			f.state = FlowBackfilling
			demoted[id] = true
			continue
		}
		if f.reads(c.changes) {
			routed[id] = true
		}
		b := pool.FlowBatch{Flow: id, From: c.consumeFrom, Upper: c.upper}
		for _, s := range f.spec.Sources {
			if s.Kind == pool.SourceTable && len(c.changes[s.Id]) > 0 {
				if b.Updates == nil {
					b.Updates = map[timely.GlobalId][]dataflow.Update{}
				}
				b.Updates[s.Id] = c.changes[s.Id]
			}
		}
		batches = append(batches, b)
	}
	c.changes = nil
	c.submit(eff, batches)
}

// submit sends batches to the pool, or goes straight to the commit when
// there are none.
func (c *Core) submit(eff *Effects, batches []pool.FlowBatch) {
	if len(batches) == 0 {
		c.Submitted(nil, eff)
		return
	}
	eff.Submit = batches
}
