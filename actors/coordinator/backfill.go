package coordinator

import (
	"fmt"
	"sort"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// target is how far a flow can advance now: its input frontier, the least
// upper over what it reads. A table bounds it by the consumed table upper,
// a storage collection by that collection's consumed upper, a view by its
// producer's committed checkpoint (so that it only ever reads committed
// view output). A flow that reads no table is not bounded by the table
// upper, and one that reads no collection waits for none.
func (c *Core) target(f *flow) timely.Timestamp {
	var t timely.Timestamp
	bounded := false
	bound := func(u timely.Timestamp) {
		if !bounded || u < t {
			t, bounded = u, true
		}
	}
	if f.direct {
		bound(c.upper)
	}
	for _, s := range f.spec.Sources {
		if s.Kind == pool.SourceCollection {
			bound(c.CollectionUpper(s.Id))
		}
	}
	for _, p := range f.producers {
		bound(c.flows[p].checkpoint)
	}
	if !bounded {
		return c.upper // a plan without sources follows the tables
	}
	return t
}

// byReads reports whether f advances by backfill reads: a backfilling
// flow, or an active flow reading a storage collection (its input frontier
// is not the tables', so a Consume's batch cannot advance it; once
// hydrated it keeps following its sources by reads, each round bounded by
// target).
func (f *flow) byReads() bool {
	return f.state == FlowBackfilling || (f.state == FlowActive && len(f.collections) > 0)
}

func (c *Core) anyBackfilling() bool {
	for _, f := range c.flows {
		if f.state == FlowBackfilling || (f.byReads() && !f.stalled && c.target(f) > f.checkpoint) {
			return true
		}
	}
	return false
}

// canBackfill reports whether a backfill round would do anything: read
// for a flow, or activate one.
func (c *Core) canBackfill() bool {
	for _, f := range c.flows {
		if !f.byReads() {
			continue
		}
		if (!f.stalled && c.target(f) > f.checkpoint) || (f.state == FlowBackfilling && c.caughtUp(f)) {
			return true
		}
	}
	return false
}

// caughtUp reports whether a backfilling flow may become active: its
// producers are active and it reached its input frontier (for a flow
// reading tables only, the consumed upper, from which on Consumes carry
// it; for a flow reading a collection, past its as_of too, so that it is
// not hydrated before its collection has anything to read).
func (c *Core) caughtUp(f *flow) bool {
	for _, p := range f.producers {
		if c.flows[p].state != FlowActive {
			return false
		}
	}
	if len(f.collections) > 0 {
		return f.checkpoint >= c.target(f) && f.checkpoint > f.spec.AsOf
	}
	return f.checkpoint >= c.upper
}

// activate makes every caught-up backfilling flow active, producers
// first, so that a reader can follow its producer in the same pass.
func (c *Core) activate(eff *Effects) {
	for _, id := range c.order {
		f := c.flows[id]
		if f.state == FlowBackfilling && c.caughtUp(f) {
			f.state = FlowActive
			eff.event(Hydrated, f, nil)
		}
	}
}

// ContinueBackfill starts a backfill round if the core is Idle and a
// round would do something; otherwise it does nothing (a round already
// follows whatever is in flight).
func (c *Core) ContinueBackfill() Effects {
	var eff Effects
	if c.phase != Idle || !c.canBackfill() {
		return eff
	}
	c.move(EvContinueBackfill{})
	c.planBackfill(&eff)
	return eff
}

// planBackfill starts a round in ReadingBackfill: activate what caught
// up, then ask the store for the next chunk of every flow that can
// advance. A round with nothing to read ends at once.
func (c *Core) planBackfill(eff *Effects) {
	c.activate(eff)
	c.reads = map[pool.FlowId]ReadRequest{}
	for _, id := range c.order {
		f := c.flows[id]
		if !f.byReads() || f.stalled {
			continue
		}
		if to := c.target(f); to > f.checkpoint {
			r := ReadRequest{Flow: id, Sources: f.spec.Sources, From: f.checkpoint, To: to, Cached: c.cached(f.spec.Sources, f.checkpoint, to)}
			c.reads[id] = r
			eff.Reads = append(eff.Reads, r)
		}
	}
	if len(eff.Reads) == 0 {
		c.move(EvNoReads{})
		c.idle(eff)
		return
	}
}

// ReadDone takes the store's answer to the round's reads and submits one
// chunk per flow: at most the chunk size of distinct versions from the
// flow's checkpoint. A flow whose read failed (or timed out) stays where
// it is and is reported; after maxBackfillFailures rounds in a row it
// stalls until the next Consume.
func (c *Core) ReadDone(results []ReadResult) Effects {
	var eff Effects
	if c.phase != ReadingBackfill {
		panic(fmt.Sprintf("coordinator: read results in phase %s", c.phase))
	}
	c.move(EvRead{})
	var batches []pool.FlowBatch
	for _, r := range results {
		req, ok := c.reads[r.Flow]
		f, live := c.flows[r.Flow]
		if !ok || !live || !f.byReads() {
			continue
		}
		if r.Err != nil {
			f.failures++
			f.stalled = f.failures >= maxBackfillFailures
			eff.event(FlowFailed, f, fmt.Errorf("backfill flow %d: %w", r.Flow, r.Err))
			continue
		}
		to := req.To
		if r.To > req.From && r.To < to {
			to = r.To
		}
		batches = append(batches, chunk(r.Flow, req.From, to, r.Updates, c.chunk))
	}
	c.reads = nil
	c.submit(&eff, batches)
	return eff
}

// chunk cuts the updates of [from, to) to the first n distinct times.
func chunk(id pool.FlowId, from, to timely.Timestamp, updates map[timely.GlobalId][]dataflow.Update, n int) pool.FlowBatch {
	seen := map[timely.Timestamp]bool{}
	var times []timely.Timestamp
	for _, us := range updates {
		for _, u := range us {
			if !seen[u.Time] {
				seen[u.Time] = true
				times = append(times, u.Time)
			}
		}
	}
	end := to
	if len(times) > n {
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		end = times[n]
	}
	b := pool.FlowBatch{Flow: id, From: from, Upper: end, Updates: map[timely.GlobalId][]dataflow.Update{}}
	for src, us := range updates {
		var keep []dataflow.Update
		for _, u := range us {
			if u.Time < end {
				keep = append(keep, u)
			}
		}
		if len(keep) > 0 {
			b.Updates[src] = keep
		}
	}
	return b
}
