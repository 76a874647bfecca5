package pool

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// TestScripts runs the scripted scenarios in testdata/ against the pool's
// core, checking its invariants after every command. Each command prints
// the effects it caused, in the order the actor carries them out. Regenerate with
// `go test ./actors/pool -run TestScripts -rewrite` and review the diff
// like code.
//
//	workers n=<n> [max-restarts=<k>]       a fresh core (first in a file)
//	register flow=<f> [checkpoint=<t>] [from=<name>]
//	submit flows=(<f>,...) [only=<w>] [from=<name>]   batches [0, 1)
//	tick flows=(<f>,...) [from=<name>]
//	rebuild flows=(<f>,...) | drop flow=<f> | peek flow=<f>
//	answer worker=<w> req=<r> [fail=(<f>,...)]  the worker answers its part
//	panic worker=<w>                        the worker panicked
//	state
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &poolScript{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out := h.run(t, d)
			if h.core != nil {
				if err := h.core.check(); err != nil {
					t.Fatalf("%s: after %s: %v", d.Pos, d.Cmd, err)
				}
			}
			return out
		})
	})
}

type poolScript struct {
	core *core
	// asked records what each worker was asked per request, to answer it.
	asked map[uint64]map[int]any
}

func flowList(t *testing.T, d *datadriven.TestData, arg string) []FlowId {
	var fs []string
	d.ScanArgs(t, arg, &fs)
	var out []FlowId
	for _, f := range fs {
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		out = append(out, FlowId(n))
	}
	return out
}

func sender(t *testing.T, d *datadriven.TestData) *actor.PID {
	name := "client"
	if d.HasArg("from") {
		d.ScanArgs(t, "from", &name)
	}
	return actor.NewPID("script", name)
}

func (h *poolScript) run(t *testing.T, d *datadriven.TestData) string {
	if d.Cmd != "workers" && h.core == nil {
		t.Fatalf("%s: start the script with workers", d.Pos)
	}
	var eff effects
	switch d.Cmd {
	case "workers":
		var n int
		d.ScanArgs(t, "n", &n)
		k := DefaultMaxRestarts
		if d.HasArg("max-restarts") {
			d.ScanArgs(t, "max-restarts", &k)
		}
		h.core, h.asked = newCore(n, k), map[uint64]map[int]any{}
		return "ok\n"
	case "register":
		var f int
		d.ScanArgs(t, "flow", &f)
		var cp uint64
		if d.HasArg("checkpoint") {
			d.ScanArgs(t, "checkpoint", &cp)
		}
		eff = h.core.Register(sender(t, d), &RegisterFlow{Spec: FlowSpec{Id: FlowId(f)}, Checkpoint: timely.Timestamp(cp)})
	case "submit":
		var bs []FlowBatch
		for _, f := range flowList(t, d, "flows") {
			bs = append(bs, FlowBatch{Flow: f, From: 0, Upper: 1})
		}
		only := -1
		if d.HasArg("only") {
			d.ScanArgs(t, "only", &only)
		}
		eff = h.core.Submit(sender(t, d), bs, only)
	case "tick":
		eff = h.core.Tick(sender(t, d), &Tick{Flows: flowList(t, d, "flows")})
	case "rebuild":
		eff = h.core.Rebuild(flowList(t, d, "flows"))
	case "drop":
		var f int
		d.ScanArgs(t, "flow", &f)
		eff = h.core.Drop(FlowId(f))
	case "peek":
		var f int
		d.ScanArgs(t, "flow", &f)
		eff = h.core.Peek(&Peek{Id: 1, Flow: FlowId(f)})
	case "answer":
		var w int
		var req uint64
		d.ScanArgs(t, "worker", &w)
		d.ScanArgs(t, "req", &req)
		fail := map[FlowId]bool{}
		if d.HasArg("fail") {
			for _, f := range flowList(t, d, "fail") {
				fail[f] = true
			}
		}
		eff = h.core.WorkerReplied(h.answer(t, w, req, fail))
	case "panic":
		var w int
		d.ScanArgs(t, "worker", &w)
		eff = h.core.WorkerFailed(w, "injected panic")
	case "state":
		return h.state()
	default:
		t.Fatalf("unknown command %s", d.Cmd)
	}
	return h.print(eff)
}

// answer builds worker w's reply to request req: every flow it was asked
// about succeeds, except those in fail.
func (h *poolScript) answer(t *testing.T, w int, req uint64, fail map[FlowId]bool) *workerReply {
	r := &workerReply{req: req, worker: w}
	result := func(f FlowId, upper timely.Timestamp) FlowResult {
		if fail[f] {
			return FlowResult{Flow: f, Err: fmt.Errorf("injected failure of flow %d", f)}
		}
		return FlowResult{Flow: f, Upper: upper}
	}
	switch m := h.asked[req][w].(type) {
	case *workerRegister:
		r.results = append(r.results, result(m.spec.Id, m.checkpoint))
	case *workerSubmit:
		for _, b := range m.batches {
			r.results = append(r.results, result(b.Flow, b.Upper))
		}
	case *workerTick:
		r.stats = map[FlowId]dataflow.Stats{}
		for _, f := range m.flows {
			r.stats[f] = dataflow.Stats{}
		}
	case nil:
		// A late or unsolicited answer: nothing was asked.
	}
	return r
}

func (h *poolScript) record(w int, req uint64, msg any) {
	if h.asked[req] == nil {
		h.asked[req] = map[int]any{}
	}
	h.asked[req][w] = msg
}

func (h *poolScript) print(eff effects) string {
	var b strings.Builder
	if s := eff.Supervise; s != nil {
		verb := "restart"
		if s.stop {
			verb = "stop"
		}
		fmt.Fprintf(&b, "supervise: %s worker %d (failures %d)\n", verb, s.worker, s.failures)
	}
	if a := eff.Add; a != nil {
		fmt.Fprintf(&b, "registry: add flow %d at %d\n", a.spec.Id, a.checkpoint)
	}
	if len(eff.Remove) > 0 {
		fmt.Fprintf(&b, "registry: remove %v\n", eff.Remove)
	}
	for _, s := range eff.Sends {
		fmt.Fprintf(&b, "worker %d <- ", s.worker)
		switch m := s.msg.(type) {
		case *workerRegister:
			h.record(s.worker, m.req, m)
			fmt.Fprintf(&b, "register req %d flow %d at %d\n", m.req, m.spec.Id, m.checkpoint)
		case *workerSubmit:
			h.record(s.worker, m.req, m)
			var fs []FlowId
			for _, bt := range m.batches {
				fs = append(fs, bt.Flow)
			}
			fmt.Fprintf(&b, "submit req %d flows %v\n", m.req, fs)
		case *workerTick:
			h.record(s.worker, m.req, m)
			fmt.Fprintf(&b, "tick req %d flows %v\n", m.req, m.flows)
		case *workerRebuild:
			fmt.Fprintf(&b, "rebuild %v\n", m.flows)
		case *workerDrop:
			fmt.Fprintf(&b, "drop flow %d\n", m.flow)
		case *Peek:
			fmt.Fprintf(&b, "peek flow %d\n", m.Flow)
		default:
			fmt.Fprintf(&b, "%T\n", m)
		}
	}
	for _, f := range eff.PeekFailures {
		fmt.Fprintf(&b, "peek of flow %d failed: %v\n", f.peek.Flow, f.err)
	}
	for _, r := range eff.Replies {
		fmt.Fprintf(&b, "reply to %s: ", r.to.Id)
		switch m := r.msg.(type) {
		case *RegisterFlowReply:
			if m.Err != nil {
				fmt.Fprintf(&b, "register flow %d: %v\n", m.Flow, m.Err)
			} else {
				fmt.Fprintf(&b, "register flow %d ok\n", m.Flow)
			}
		case *SubmitReply:
			rs := slices.Clone(m.Results)
			sort.Slice(rs, func(i, j int) bool { return rs[i].Flow < rs[j].Flow })
			b.WriteString("submit\n")
			for _, r := range rs {
				if r.Err != nil {
					fmt.Fprintf(&b, "  flow %d: %v\n", r.Flow, r.Err)
				} else {
					fmt.Fprintf(&b, "  flow %d: ok at %d\n", r.Flow, r.Upper)
				}
			}
		case *TickReply:
			var fs []FlowId
			for f := range m.Stats {
				fs = append(fs, f)
			}
			slices.Sort(fs)
			fmt.Fprintf(&b, "tick stats of %v\n", fs)
		}
	}
	if b.Len() == 0 {
		return "nothing\n"
	}
	return b.String()
}

func (h *poolScript) state() string {
	var b strings.Builder
	var fs []FlowId
	for f := range h.core.flows {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	fmt.Fprintf(&b, "flows %v\n", fs)
	var ids []uint64
	for id := range h.core.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		g := h.core.pending[id]
		var ws []int
		for w := range g.waiting {
			ws = append(ws, w)
		}
		slices.Sort(ws)
		fmt.Fprintf(&b, "req %d waits on", id)
		for _, w := range ws {
			fmt.Fprintf(&b, " worker %d %v", w, g.waiting[w])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "failures %v stopped %v\n", h.core.failures, h.core.dead)
	return b.String()
}
