package pool

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
)

// gather collects the workers' answers to one request into one reply.
type gather struct {
	kind    gatherKind
	sender  *actor.PID
	waiting map[int][]FlowId // worker -> flows it was asked about
	results []FlowResult
	stats   map[FlowId]dataflow.Stats
}

type gatherKind uint8

const (
	gatherRegister gatherKind = iota + 1
	gatherSubmit
	gatherTick
)

// add records a worker's reply; it reports whether the gather is complete.
func (g *gather) add(r *workerReply) bool {
	if _, ok := g.waiting[r.worker]; !ok {
		return len(g.waiting) == 0
	}
	delete(g.waiting, r.worker)
	g.results = append(g.results, r.results...)
	for id, s := range r.stats {
		g.stats[id] = s
	}
	return len(g.waiting) == 0
}

// reply is the gathered answer.
func (g *gather) reply() any {
	switch g.kind {
	case gatherRegister:
		r := &RegisterFlowReply{}
		if len(g.results) > 0 {
			r.Flow, r.Err = g.results[0].Flow, g.results[0].Err
		}
		return r
	case gatherTick:
		return &TickReply{Stats: g.stats}
	}
	return &SubmitReply{Results: g.results}
}
