package pool

import (
	"sort"
	"sync"

	"github.com/arbor-db/arbor/timely"
)

// registry is the pool's record of every flow and its committed checkpoint.
// The pool actor writes it; a worker incarnation reads it when it starts,
// so that a worker restarted by the supervisor rebuilds its flows before it
// handles any further message. It is the only state shared between the pool
// and its workers, hence the mutex.
type registry struct {
	mu     sync.Mutex
	n      int
	flows  map[FlowId]*registered
	starts []int // incarnations started, per worker
}

type registered struct {
	spec       FlowSpec
	checkpoint timely.Timestamp
}

func newRegistry(n int) *registry {
	return &registry{n: n, flows: map[FlowId]*registered{}, starts: make([]int, n)}
}

func (r *registry) add(spec FlowSpec, checkpoint timely.Timestamp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flows[spec.Id] = &registered{spec: spec, checkpoint: checkpoint}
}

func (r *registry) has(id FlowId) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.flows[id]
	return ok
}

func (r *registry) remove(id FlowId) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.flows, id)
}

func (r *registry) commit(cps map[FlowId]timely.Timestamp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, t := range cps {
		if f, ok := r.flows[id]; ok && t > f.checkpoint {
			f.checkpoint = t
		}
	}
}

func (r *registry) get(id FlowId) (registered, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.flows[id]
	if !ok {
		return registered{}, false
	}
	return *f, true
}

// flowsOf returns the flows of worker w, by id.
func (r *registry) flowsOf(w int) []registered {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []registered
	for id, f := range r.flows {
		if workerOf(id, r.n) == w {
			out = append(out, *f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].spec.Id < out[j].spec.Id })
	return out
}

// started records that an incarnation of worker w started and reports
// whether an earlier one existed (this one is a restart).
func (r *registry) started(w int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts[w]++
	return r.starts[w] > 1
}

// workerOf is the worker that owns flow id among n.
func workerOf(id FlowId, n int) int { return int(uint64(id) % uint64(n)) }
