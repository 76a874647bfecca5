package pool

import (
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// core is the pool's bookkeeping as a plain state machine: which flows
// are registered, which requests wait on which workers (one gather per
// request), how often each worker failed since it last answered, and which
// workers were stopped under the MaxRestarts rule. It does no I/O, reads
// no clock and starts no goroutines: every method returns the effects the
// pool actor carries out (effects.go), in their order. Senders are opaque
// addresses the core only hands back in replies. It is not safe for
// concurrent use.
type core struct {
	// constant after construction
	n           int // workers
	maxRestarts int

	flows    map[FlowId]bool    // registered (also in the shared registry)
	nextReq  uint64             // id of the last request begun
	pending  map[uint64]*gather // requests waiting on workers
	failures []int              // per worker: failures since its last answer
	dead     []bool             // per worker: stopped after too many failures
}

func newCore(workers, maxRestarts int) *core {
	return &core{
		n: workers, maxRestarts: maxRestarts,
		flows:    map[FlowId]bool{},
		pending:  map[uint64]*gather{},
		failures: make([]int, workers),
		dead:     make([]bool, workers),
	}
}

// Flows returns the number of registered flows.
func (c *core) Flows() int { return len(c.flows) }

// deadErr is the error of a request for a flow on a stopped worker.
func (c *core) deadErr(w int, id FlowId) error {
	return fmt.Errorf("%w: worker %d holding flow %d failed %d times in a row and was stopped", ErrWorkerFailed, w, id, c.failures[w])
}

func (c *core) begin(kind gatherKind, sender *actor.PID) (uint64, *gather) {
	c.nextReq++
	g := &gather{kind: kind, sender: sender, waiting: map[int][]FlowId{}, stats: map[FlowId]dataflow.Stats{}}
	c.pending[c.nextReq] = g
	return c.nextReq, g
}

// finish replies at once when nothing was sent to any worker.
func (c *core) finish(id uint64, g *gather, eff *effects) {
	if len(g.waiting) == 0 {
		delete(c.pending, id)
		eff.reply(g)
	}
}

// Register registers a flow on its worker. A flow already registered, or
// one on a stopped worker, is answered at once with an error; otherwise
// the flow enters the registry and its worker builds it.
func (c *core) Register(sender *actor.PID, m *RegisterFlow) effects {
	var eff effects
	id, g := c.begin(gatherRegister, sender)
	w := workerOf(m.Spec.Id, c.n)
	switch {
	case c.flows[m.Spec.Id]:
		g.results = append(g.results, FlowResult{Flow: m.Spec.Id, Err: fmt.Errorf("%w: flow %d", ErrFlowExists, m.Spec.Id)})
	case c.dead[w]:
		g.results = append(g.results, FlowResult{Flow: m.Spec.Id, Err: c.deadErr(w, m.Spec.Id)})
	default:
		c.flows[m.Spec.Id] = true
		eff.Add = &registered{spec: m.Spec, checkpoint: m.Checkpoint}
		g.waiting[w] = []FlowId{m.Spec.Id}
		eff.send(w, &workerRegister{req: id, spec: m.Spec, checkpoint: m.Checkpoint})
	}
	c.finish(id, g, &eff)
	return eff
}

// Submit groups batches by worker and gathers one reply; only is the one
// worker allowed (SubmitToWorker), or -1 for any. Batches for a stopped
// worker, or for another worker than only, fail at once.
func (c *core) Submit(sender *actor.PID, batches []FlowBatch, only int) effects {
	var eff effects
	id, g := c.begin(gatherSubmit, sender)
	byWorker := map[int][]FlowBatch{}
	var order []int
	for _, b := range batches {
		w := workerOf(b.Flow, c.n)
		if only >= 0 && w != only {
			g.results = append(g.results, FlowResult{Flow: b.Flow, Err: fmt.Errorf("%w: flow %d lives on worker %d, not %d", ErrWrongWorker, b.Flow, w, only)})
			continue
		}
		if c.dead[w] {
			g.results = append(g.results, FlowResult{Flow: b.Flow, Err: c.deadErr(w, b.Flow)})
			continue
		}
		if _, ok := byWorker[w]; !ok {
			order = append(order, w)
		}
		byWorker[w] = append(byWorker[w], b)
		g.waiting[w] = append(g.waiting[w], b.Flow)
	}
	for _, w := range order {
		eff.send(w, &workerSubmit{req: id, batches: byWorker[w]})
	}
	c.finish(id, g, &eff)
	return eff
}

// Tick asks the flows' workers for their stats; flows on stopped workers
// are left out.
func (c *core) Tick(sender *actor.PID, m *Tick) effects {
	var eff effects
	id, g := c.begin(gatherTick, sender)
	byWorker := map[int][]FlowId{}
	var order []int
	for _, f := range m.Flows {
		w := workerOf(f, c.n)
		if c.dead[w] {
			continue
		}
		if _, ok := byWorker[w]; !ok {
			order = append(order, w)
		}
		byWorker[w] = append(byWorker[w], f)
		g.waiting[w] = append(g.waiting[w], f)
	}
	for _, w := range order {
		eff.send(w, &workerTick{req: id, flows: byWorker[w], now: m.Now})
	}
	c.finish(id, g, &eff)
	return eff
}

// Rebuild asks the live workers owning flows to rebuild them. No reply.
func (c *core) Rebuild(flows []FlowId) effects {
	var eff effects
	byWorker := map[int][]FlowId{}
	var order []int
	for _, f := range flows {
		w := workerOf(f, c.n)
		if c.dead[w] {
			continue
		}
		if _, ok := byWorker[w]; !ok {
			order = append(order, w)
		}
		byWorker[w] = append(byWorker[w], f)
	}
	for _, w := range order {
		eff.send(w, &workerRebuild{flows: byWorker[w]})
	}
	return eff
}

// Drop forgets a flow and tells its worker, unless the worker was
// stopped. No reply.
func (c *core) Drop(id FlowId) effects {
	var eff effects
	if c.flows[id] {
		delete(c.flows, id)
		eff.Remove = append(eff.Remove, id)
	}
	if w := workerOf(id, c.n); !c.dead[w] {
		eff.send(w, &workerDrop{flow: id})
	}
	return eff
}

// Compact tells a live flow's worker that the flow's output history
// before since may go. No reply.
func (c *core) Compact(id FlowId, since timely.Timestamp) effects {
	var eff effects
	if w := workerOf(id, c.n); c.flows[id] && !c.dead[w] {
		eff.send(w, &workerCompact{flow: id, since: since})
	}
	return eff
}

// Peek routes a peek to the flow's worker, or fails it when that worker
// was stopped.
func (c *core) Peek(p *Peek) effects {
	var eff effects
	if w := workerOf(p.Flow, c.n); c.dead[w] {
		eff.PeekFailures = append(eff.PeekFailures, peekFailure{peek: *p, err: c.deadErr(w, p.Flow)})
	} else {
		eff.send(w, p)
	}
	return eff
}

// WorkerReplied takes a worker's answer to a request: the worker is
// healthy again (its failure count resets), a failed registration leaves
// the registry, and a complete gather is answered. A late answer to a
// request already answered (the worker was declared failed) is dropped.
func (c *core) WorkerReplied(m *workerReply) effects {
	var eff effects
	c.failures[m.worker] = 0
	g, ok := c.pending[m.req]
	if !ok {
		return eff
	}
	if g.kind == gatherRegister {
		for _, r := range m.results {
			if r.Err != nil && c.flows[r.Flow] {
				delete(c.flows, r.Flow) // not registered after all
				eff.Remove = append(eff.Remove, r.Flow)
			}
		}
	}
	if g.add(m) {
		delete(c.pending, m.req)
		eff.reply(g)
	}
	return eff
}

// WorkerFailed takes the failure of worker w (a panic). Under the
// MaxRestarts rule — more than maxRestarts failures since the worker last
// answered — the worker is stopped for good; otherwise it is restarted
// (the supervision decision comes first in the effects, so that a reply
// below can be acted on at once). The worker's part of every request in
// flight fails: with ErrWorkerRestarted (the new incarnation rebuilt its
// flows from their checkpoints), or ErrWorkerFailed when it was stopped.
func (c *core) WorkerFailed(w int, reason string) effects {
	var eff effects
	c.failures[w]++
	s := &supervision{worker: w, failures: c.failures[w], reason: reason}
	if c.failures[w] > c.maxRestarts {
		c.dead[w] = true
		s.stop = true
	}
	eff.Supervise = s
	ids := make([]uint64, 0, len(c.pending))
	for id := range c.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids) // in request order, so that replies are deterministic
	for _, id := range ids {
		g := c.pending[id]
		for _, f := range g.waiting[w] {
			err := fmt.Errorf("%w: worker %d panicked while handling flow %d; its flows were rebuilt from their checkpoints", ErrWorkerRestarted, w, f)
			if s.stop {
				err = c.deadErr(w, f)
			}
			g.results = append(g.results, FlowResult{Flow: f, Err: err})
		}
		delete(g.waiting, w)
		if len(g.waiting) == 0 {
			delete(c.pending, id)
			eff.reply(g)
		}
	}
	return eff
}

// Pending returns the number of requests waiting on workers.
func (c *core) Pending() int { return len(c.pending) }

// check returns an error naming the first broken invariant of the core:
// every pending request waits on at least one worker, never on a stopped
// one, and only for flows of that worker; a stopped worker has failed
// more than maxRestarts times. Scripted tests call it after every step.
func (c *core) check() error {
	for id, g := range c.pending {
		if len(g.waiting) == 0 {
			return fmt.Errorf("request %d is pending but waits on no worker", id)
		}
		for w, flows := range g.waiting {
			if c.dead[w] {
				return fmt.Errorf("request %d waits on stopped worker %d", id, w)
			}
			for _, f := range flows {
				if workerOf(f, c.n) != w {
					return fmt.Errorf("request %d waits on worker %d for flow %d, which lives on worker %d", id, w, f, workerOf(f, c.n))
				}
			}
		}
	}
	for w, d := range c.dead {
		if d && c.failures[w] <= c.maxRestarts {
			return fmt.Errorf("worker %d is stopped after %d failures, within the %d allowed", w, c.failures[w], c.maxRestarts)
		}
	}
	return nil
}
