package pool

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// worker owns the operator state and arrangements of the flows f with
// f % N == index. It is a child of the pool; a panic restarts it (the
// pool is its supervisor) and the new incarnation rebuilds every flow from
// the registry's committed checkpoints before it handles another message.
type worker struct {
	// constant after start
	index       int
	reg         *registry
	reader      Reader
	readTimeout time.Duration
	hook        func(worker int, b FlowBatch)
	log         *slog.Logger
	unhandled   *surface.Unhandled

	// guarded by the actor
	flows map[FlowId]*flowState
}

// Receive handles one message.
func (w *worker) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.start()
	case *workerRegister:
		w.handleRegister(ctx, m)
	case *workerSubmit:
		w.handleSubmit(ctx, m)
	case *workerTick:
		w.handleTick(ctx, m)
	case *workerRebuild:
		w.handleRebuild(m)
	case *workerDrop:
		w.handleDrop(ctx, m)
	case *workerCompact:
		w.handleCompact(m)
	case *Peek:
		w.handlePeek(ctx, m)
	default:
		w.unhandled.Handle(ctx)
	}
}

// start rebuilds the worker's flows from the registry. On the first
// incarnation the registry holds none of them yet.
func (w *worker) start() {
	w.flows = map[FlowId]*flowState{}
	restarted := w.reg.started(w.index)
	for _, r := range w.reg.flowsOf(w.index) {
		w.rebuild(r)
	}
	if restarted {
		w.log.Warn("pool worker restarted; flows rebuilt from their checkpoints", "worker", w.index, "flows", len(w.flows))
	}
}

// rebuild replaces the flow's state with one built at its committed
// checkpoint, keeping the peeks that wait on it.
func (w *worker) rebuild(r registered) {
	var peeks []Peek
	if old := w.flows[r.spec.Id]; old != nil {
		peeks = old.peeks
	}
	f, err := buildFlow(r.spec, r.checkpoint, w.reader, w.readTimeout)
	if err != nil {
		w.log.Error("pool worker: rebuilding flow failed", "worker", w.index, "flow", r.spec.Id, "err", err)
		f = &flowState{spec: r.spec, broken: err, checkpoint: r.checkpoint}
	}
	f.peeks = peeks
	w.flows[r.spec.Id] = f
}

func (w *worker) handleRegister(ctx actor.Context, m *workerRegister) {
	res := FlowResult{Flow: m.spec.Id, Upper: m.checkpoint}
	f, err := buildFlow(m.spec, m.checkpoint, w.reader, w.readTimeout)
	if err != nil {
		res.Err = err
	} else {
		w.flows[m.spec.Id] = f
	}
	ctx.Send(ctx.Parent(), &workerReply{req: m.req, worker: w.index, results: []FlowResult{res}})
}

func (w *worker) handleSubmit(ctx actor.Context, m *workerSubmit) {
	results := make([]FlowResult, 0, len(m.batches))
	for _, b := range m.batches {
		if w.hook != nil {
			w.hook(w.index, b) // fault injection in tests; may panic
		}
		f, ok := w.flows[b.Flow]
		if !ok {
			results = append(results, FlowResult{Flow: b.Flow, Err: fmt.Errorf("%w: flow %d on worker %d", ErrUnknownFlow, b.Flow, w.index)})
			continue
		}
		results = append(results, f.apply(b))
		f.answerPeeks(func(p Peek, rows []dataflow.Row, err error) { replyPeek(ctx, p, rows, err) })
	}
	ctx.Send(ctx.Parent(), &workerReply{req: m.req, worker: w.index, results: results})
}

func (w *worker) handleTick(ctx actor.Context, m *workerTick) {
	stats := map[FlowId]dataflow.Stats{}
	for _, id := range m.flows {
		if f, ok := w.flows[id]; ok && f.df != nil {
			stats[id] = f.df.Stats()
		}
	}
	ctx.Send(ctx.Parent(), &workerReply{req: m.req, worker: w.index, stats: stats})
}

func (w *worker) handleRebuild(m *workerRebuild) {
	for _, id := range m.flows {
		if r, ok := w.reg.get(id); ok {
			w.rebuild(r)
		}
	}
}

func (w *worker) handleDrop(ctx actor.Context, m *workerDrop) {
	f, ok := w.flows[m.flow]
	if !ok {
		return
	}
	for _, p := range f.peeks {
		replyPeek(ctx, p, nil, fmt.Errorf("%w: flow %d", ErrFlowDropped, m.flow))
	}
	delete(w.flows, m.flow)
}

// handleCompact compacts a flow's output arrangement. A since that does
// not move it forward (a replayed AllowCompaction) changes nothing.
func (w *worker) handleCompact(m *workerCompact) {
	f, ok := w.flows[m.flow]
	if !ok || f.df == nil || f.broken != nil {
		return
	}
	since := timely.At(m.since)
	if t, ok := f.df.Since().Time(); ok && t >= m.since {
		return
	}
	if err := f.df.Compact(since); err != nil {
		w.log.Warn("flow compaction refused", "flow", m.flow, "since", m.since, "err", err)
	}
}

func (w *worker) handlePeek(ctx actor.Context, p *Peek) {
	f, ok := w.flows[p.Flow]
	if !ok {
		replyPeek(ctx, *p, nil, fmt.Errorf("%w: peek of flow %d", ErrUnknownFlow, p.Flow))
		return
	}
	f.peeks = append(f.peeks, *p) // a flow that is not built answers it once rebuilt
	f.answerPeeks(func(p Peek, rows []dataflow.Row, err error) { replyPeek(ctx, p, rows, err) })
}

func replyPeek(ctx actor.SenderContext, p Peek, rows []dataflow.Row, err error) {
	if p.ReplyTo == nil {
		return
	}
	ctx.Send(p.ReplyTo, &PeekReply{Id: p.Id, Flow: p.Flow, Rows: rows, Err: err})
}
