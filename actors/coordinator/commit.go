package coordinator

import (
	"fmt"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// Submitted takes the pool's results for the batches in flight (of a
// Consume or a backfill round), moves to Committing and asks for the
// commit of the outputs and checkpoints of the flows that applied their
// batch. A flow whose batch failed goes back to backfilling at its
// committed checkpoint and is rebuilt by its worker. eff may be nil; the
// effects are returned.
func (c *Core) Submitted(results []pool.FlowResult, eff *Effects) Effects {
	if eff == nil {
		eff = &Effects{}
	}
	switch c.phase {
	case SubmittingBatches:
		c.round = roundConsume
	case AdvancingBackfill:
		c.round = roundBackfill
	default:
		panic(fmt.Sprintf("coordinator: submit results in phase %s", c.phase))
	}
	c.move(EvSubmitted{})
	commit := &Commit{Outputs: map[timely.GlobalId][]dataflow.Update{}, Checkpoints: map[pool.FlowId]timely.Timestamp{}}
	for _, r := range results {
		f, ok := c.flows[r.Flow]
		if !ok {
			continue // dropped meanwhile
		}
		if r.Err != nil {
			f.state = FlowBackfilling
			if c.round == roundBackfill {
				f.failures++
				f.stalled = f.failures >= maxBackfillFailures
			}
			eff.Rebuild = append(eff.Rebuild, r.Flow)
			eff.event(FlowFailed, f, r.Err)
			continue
		}
		f.failures = 0
		commit.Checkpoints[r.Flow] = r.Upper
		if f.spec.Materialized && len(r.Output) > 0 {
			commit.Outputs[f.spec.Export] = append(commit.Outputs[f.spec.Export], r.Output...)
		}
	}
	c.toCommit = commit.Checkpoints
	if len(commit.Checkpoints) == 0 {
		c.Committed(nil, eff)
		return *eff
	}
	commit.Compaction = c.compaction()
	eff.Commit = commit
	return *eff
}

// Committed takes the store's answer to the commit in flight. On success
// the checkpoints advance and the pool learns them; on failure (a
// timeout included) they stay where they were, and the flows of the step
// backfill from them after a rebuild. Then the phase moves on: to a
// backfill round after a Consume when flows are backfilling, else to Idle
// (answering the Consume). eff may be nil.
func (c *Core) Committed(err error, eff *Effects) Effects {
	if eff == nil {
		eff = &Effects{}
	}
	if c.phase != Committing {
		panic(fmt.Sprintf("coordinator: commit outcome in phase %s", c.phase))
	}
	if err != nil {
		// The cause comes first among the wrapped errors, so that its
		// code (TIMEOUT for a store that did not answer in time) is the
		// code of the reply; ErrCommit still matches under errors.Is.
		err = fmt.Errorf("%[2]w: %[1]w; %[3]d flows backfill from their checkpoints", err, ErrCommit, len(c.toCommit))
		for _, id := range c.order {
			if _, ok := c.toCommit[id]; !ok {
				continue
			}
			if f, ok := c.flows[id]; ok {
				f.state = FlowBackfilling
				eff.Rebuild = append(eff.Rebuild, id)
				eff.event(FlowFailed, f, err)
			}
		}
		if c.replyErr == nil {
			c.replyErr = err
		}
	} else if len(c.toCommit) > 0 {
		eff.Committed = map[pool.FlowId]timely.Timestamp{}
		for _, id := range c.order {
			t, ok := c.toCommit[id]
			if !ok {
				continue
			}
			if f, ok := c.flows[id]; ok {
				f.checkpoint = t
				eff.Committed[id] = t
				eff.event(FrontierAdvanced, f, nil)
			}
		}
		c.trimCollections()
	}
	c.toCommit = nil
	r := c.round
	c.round = 0
	if r == roundConsume {
		backfill := c.anyBackfilling()
		c.move(EvCommitted{Backfill: backfill})
		if backfill {
			c.planBackfill(eff)
			return *eff
		}
	} else {
		c.activate(eff)
		c.move(EvCommitted{})
	}
	c.idle(eff)
	return *eff
}

// idle runs when the phase has just become Idle: it answers the Consume in
// progress and starts what waits (registrations, more backfill).
func (c *Core) idle(eff *Effects) {
	if c.consuming {
		c.consuming = false
		eff.Reply, eff.ReplyErr = true, c.replyErr
		c.replyErr = nil
	}
	if len(c.regQueue) > 0 {
		c.move(EvInstall{})
		c.registerHead(eff)
		return
	}
	if c.canBackfill() {
		eff.ContinueBackfill = true
	}
}
