package coordinator

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestScripts runs the scripted scenarios in testdata/ against a Core.
// Each command prints the effects of the step it caused, and "error: ..."
// when the Core refused it. Regenerate with
// `go test ./actors/coordinator -run TestScripts -rewrite` and review the
// diff like code.
//
// Collections are tables u1..u9, flow exports u10..u19 and storage
// collections u20..u29 (each with its own upper); every collection has one
// int64 column, and a change is the row (time).
//
//	install flow=<n> sources=(<id>,...) [materialized] [checkpoint=<t>] [tick=<ms>]
//	    a flow over the union of its sources (u10..u19 are views,
//	    u20..u29 storage collections)
//	consume from=<t> upper=<t> [changes=(<id>@<t>,...)]
//	progress collection=<id> upper=<t> [from=<t>] [changes=(<t>,...)]
//	    the collection's changes in [from, upper) (appended to storage and
//	    delivered by its CDC; from defaults to the known upper)
//	registered flow=<n> [err=<word>]
//	submitted [fail=(<flow>,...)]   answer the batches in flight
//	read [fail=(<flow>,...)] [timeout=(<flow>,...)]
//	                                answer the reads in flight from the log
//	commit [fail|timeout]           answer the commit in flight
//	settle                          answer everything in flight with success until idle
//	allow export=<id> at=<t>        the runtime allows folding id's output up to t;
//	                                prints the fold frontier the Core would use
//	continue | tick now=<ms> | ticked | drop flow=<n> | state
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &script{core: NewCore(CoreConfig{BackfillChunk: 2}), committed: map[timely.GlobalId][]dataflow.Update{}}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return h.run(t, d)
		})
	})
}

type script struct {
	core      *Core
	log       []dataflow.Update // table changes, Row{table value}, by time
	logIds    []timely.GlobalId
	committed map[timely.GlobalId][]dataflow.Update

	submit []pool.FlowBatch
	reads  []ReadRequest
	commit *Commit
}

var oneInt = dataflow.Schema{{Name: "x", Type: dataflow.TypeInt64}}

func unionPlan(ids []timely.GlobalId) *messages.Plan {
	var ins []*messages.Plan
	for _, id := range ids {
		ins = append(ins, &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(id)}}})
	}
	if len(ins) == 1 {
		return ins[0]
	}
	return &messages.Plan{Node: &messages.Plan_Union{Union: &messages.UnionPlan{Inputs: ins}}}
}

func (h *script) run(t *testing.T, d *datadriven.TestData) string {
	var out strings.Builder
	var eff Effects
	var err error
	switch d.Cmd {
	case "install":
		var flow int
		d.ScanArgs(t, "flow", &flow)
		var srcs []string
		d.ScanArgs(t, "sources", &srcs)
		spec := pool.FlowSpec{Id: pool.FlowId(flow), Export: timely.UserId(uint64(flow)), Materialized: d.HasArg("materialized")}
		schemas := map[timely.GlobalId]dataflow.Schema{}
		var ids []timely.GlobalId
		for _, s := range srcs {
			v, _ := strconv.ParseUint(strings.TrimPrefix(s, "u"), 10, 64)
			id := timely.UserId(v)
			kind := pool.SourceTable
			switch {
			case v >= 20:
				kind = pool.SourceCollection
			case v >= 10:
				kind = pool.SourceView
			}
			spec.Sources = append(spec.Sources, pool.Source{Id: id, Kind: kind})
			schemas[id] = oneInt
			ids = append(ids, id)
		}
		if d.HasArg("tick") {
			var ms int
			d.ScanArgs(t, "tick", &ms)
			spec.TickInterval = time.Duration(ms) * time.Millisecond
		}
		plan, perr := dataflow.Compile(unionPlan(ids), schemas)
		if perr != nil {
			t.Fatal(perr)
		}
		spec.Plan = plan
		var cp uint64
		if d.HasArg("checkpoint") {
			d.ScanArgs(t, "checkpoint", &cp)
		}
		eff, err = h.core.Install(spec, timely.Timestamp(cp))
	case "consume":
		var from, upper uint64
		d.ScanArgs(t, "from", &from)
		d.ScanArgs(t, "upper", &upper)
		changes := map[timely.GlobalId][]dataflow.Update{}
		if d.HasArg("changes") {
			var cs []string
			d.ScanArgs(t, "changes", &cs)
			for _, c := range cs {
				parts := strings.Split(c, "@")
				v, _ := strconv.ParseUint(strings.TrimPrefix(parts[0], "u"), 10, 64)
				at, _ := strconv.ParseUint(parts[1], 10, 64)
				u := dataflow.Update{Row: dataflow.Row{dataflow.Int64(int64(at))}, Time: timely.Timestamp(at), Diff: 1}
				changes[timely.UserId(v)] = append(changes[timely.UserId(v)], u)
			}
		}
		before := h.core.Upper()
		eff, err = h.core.Consume(timely.Timestamp(from), timely.Timestamp(upper), changes)
		if err == nil && h.core.Upper() > before {
			for id, us := range changes {
				for _, u := range us {
					h.log = append(h.log, u)
					h.logIds = append(h.logIds, id)
				}
			}
		}
	case "progress":
		var coll string
		var upper uint64
		d.ScanArgs(t, "collection", &coll)
		d.ScanArgs(t, "upper", &upper)
		v, _ := strconv.ParseUint(strings.TrimPrefix(coll, "u"), 10, 64)
		id := timely.UserId(v)
		from := uint64(h.core.CollectionUpper(id))
		if d.HasArg("from") {
			d.ScanArgs(t, "from", &from)
		}
		var cs []dataflow.Update
		if d.HasArg("changes") {
			var ts []string
			d.ScanArgs(t, "changes", &ts)
			for _, x := range ts {
				at, _ := strconv.ParseUint(x, 10, 64)
				u := dataflow.Update{Row: dataflow.Row{dataflow.Int64(int64(at))}, Time: timely.Timestamp(at), Diff: 1}
				h.log = append(h.log, u)
				h.logIds = append(h.logIds, id)
				cs = append(cs, u)
			}
		}
		eff = h.core.CollectionProgress(id, timely.Timestamp(from), timely.Timestamp(upper), cs)
	case "registered":
		var flow int
		d.ScanArgs(t, "flow", &flow)
		var rerr error
		if d.HasArg("err") {
			var w string
			d.ScanArgs(t, "err", &w)
			rerr = fmt.Errorf("%s", w)
		}
		eff = h.core.Registered(pool.FlowId(flow), rerr)
	case "submitted":
		eff = h.core.Submitted(h.results(h.failSet(t, d)), nil)
	case "read":
		eff = h.core.ReadDone(h.readResults(h.failSet(t, d), h.flowSet(t, d, "timeout")))
	case "commit":
		switch {
		case d.HasArg("timeout"):
			h.commit = nil
			eff = h.core.Committed(fmt.Errorf("commit of the step: %w after 5s", messages.ErrTimeout), nil)
		default:
			eff = h.doCommit(d.HasArg("fail"))
		}
	case "settle":
		for i := 0; i < 100; i++ {
			switch {
			case h.submit != nil:
				eff = h.core.Submitted(h.results(nil), nil)
			case h.reads != nil:
				eff = h.core.ReadDone(h.readResults(nil, nil))
			case h.commit != nil:
				eff = h.doCommit(false)
			default:
				if h.core.Phase() == Idle && h.core.canBackfill() {
					eff = h.core.ContinueBackfill()
				} else {
					return out.String() + h.state()
				}
			}
			h.print(&out, eff)
		}
		t.Fatal("settle did not converge")
	case "continue":
		eff = h.core.ContinueBackfill()
	case "tick":
		var ms int64
		d.ScanArgs(t, "now", &ms)
		eff = h.core.Tick(time.UnixMilli(ms))
	case "ticked":
		eff = h.core.Ticked()
	case "drop":
		var flow int
		d.ScanArgs(t, "flow", &flow)
		eff, err = h.core.Drop(pool.FlowId(flow))
	case "allow":
		var export string
		var at uint64
		d.ScanArgs(t, "export", &export)
		d.ScanArgs(t, "at", &at)
		v, _ := strconv.ParseUint(strings.TrimPrefix(export, "u"), 10, 64)
		if err := h.core.AllowCompaction(timely.UserId(v), timely.Timestamp(at)); err != nil {
			return fmt.Sprintf("error: %v\n", err)
		}
		return fmt.Sprintf("fold frontier: %d\n", h.core.FoldFrontier(timely.UserId(v)))
	case "state":
		return h.state()
	default:
		t.Fatalf("unknown command %s", d.Cmd)
	}
	if err != nil {
		return fmt.Sprintf("error: %v\n", err)
	}
	h.print(&out, eff)
	return out.String()
}

func (h *script) failSet(t *testing.T, d *datadriven.TestData) map[pool.FlowId]bool {
	return h.flowSet(t, d, "fail")
}

// flowSet reads the flows listed in argument arg.
func (h *script) flowSet(t *testing.T, d *datadriven.TestData, arg string) map[pool.FlowId]bool {
	fail := map[pool.FlowId]bool{}
	if d.HasArg(arg) {
		var fs []string
		d.ScanArgs(t, arg, &fs)
		for _, f := range fs {
			n, _ := strconv.Atoi(f)
			fail[pool.FlowId(n)] = true
		}
	}
	return fail
}

// results applies the batches in flight: a materialized flow outputs its
// input unchanged (the plan is a union of gets).
func (h *script) results(fail map[pool.FlowId]bool) []pool.FlowResult {
	var rs []pool.FlowResult
	for _, b := range h.submit {
		if fail[b.Flow] {
			rs = append(rs, pool.FlowResult{Flow: b.Flow, Err: fmt.Errorf("injected failure of flow %d", b.Flow)})
			continue
		}
		r := pool.FlowResult{Flow: b.Flow, Upper: b.Upper}
		for _, us := range b.Updates {
			r.Output = append(r.Output, us...)
		}
		rs = append(rs, r)
	}
	h.submit = nil
	return rs
}

func (h *script) readResults(fail, timeout map[pool.FlowId]bool) []ReadResult {
	var rs []ReadResult
	for _, r := range h.reads {
		res := ReadResult{Flow: r.Flow, Updates: map[timely.GlobalId][]dataflow.Update{}}
		if fail[r.Flow] {
			res.Err = fmt.Errorf("injected read failure")
		}
		if timeout[r.Flow] {
			res.Err = fmt.Errorf("read of table u1 [%d, %d): %w after 5s", r.From, r.To, messages.ErrTimeout)
			rs = append(rs, res)
			continue
		}
		for _, s := range r.Sources {
			var all []dataflow.Update
			if have, ok := r.Cached[s.Id]; ok {
				all = have // the coordinator's own log: checked against the result
			} else if s.Kind == pool.SourceTable || s.Kind == pool.SourceCollection {
				for i, u := range h.log {
					if h.logIds[i] == s.Id {
						all = append(all, u)
					}
				}
			} else {
				all = h.committed[s.Id]
			}
			for _, u := range all {
				if u.Time >= r.From && u.Time < r.To {
					res.Updates[s.Id] = append(res.Updates[s.Id], u)
				}
			}
		}
		rs = append(rs, res)
	}
	h.reads = nil
	return rs
}

func (h *script) doCommit(fail bool) Effects {
	c := h.commit
	h.commit = nil
	if fail {
		return h.core.Committed(fmt.Errorf("injected commit failure"), nil)
	}
	for id, us := range c.Outputs {
		h.committed[id] = append(h.committed[id], us...)
	}
	return h.core.Committed(nil, nil)
}

func (h *script) print(out *strings.Builder, eff Effects) {
	for _, e := range eff.Events {
		fmt.Fprintf(out, "event: %s flow %d at %d", e.Kind, e.Flow, e.Upper)
		if e.Err != nil {
			fmt.Fprintf(out, ": %v", e.Err)
		}
		out.WriteString("\n")
	}
	if len(eff.Drop) > 0 {
		fmt.Fprintf(out, "pool drop: %v\n", eff.Drop)
	}
	if len(eff.Committed) > 0 {
		fmt.Fprintf(out, "pool committed: %s\n", checkpoints(eff.Committed))
	}
	if len(eff.Rebuild) > 0 {
		ids := append([]pool.FlowId(nil), eff.Rebuild...)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		fmt.Fprintf(out, "pool rebuild: %v\n", ids)
	}
	if r := eff.Register; r != nil {
		fmt.Fprintf(out, "register: flow %d at %d\n", r.Spec.Id, r.Checkpoint)
	}
	if len(eff.Submit) > 0 {
		h.submit = eff.Submit
		for _, b := range eff.Submit {
			fmt.Fprintf(out, "submit: flow %d [%d, %d)%s\n", b.Flow, b.From, b.Upper, updates(b.Updates))
		}
	}
	if len(eff.Reads) > 0 {
		h.reads = eff.Reads
		for _, r := range eff.Reads {
			fmt.Fprintf(out, "read: flow %d [%d, %d)%s\n", r.Flow, r.From, r.To, cachedOf(r))
		}
	}
	if c := eff.Commit; c != nil {
		h.commit = c
		fmt.Fprintf(out, "commit: %s%s%s\n", checkpoints(c.Checkpoints), updates(c.Outputs), compactionOf(c.Compaction))
	}
	if len(eff.Tick) > 0 {
		fmt.Fprintf(out, "tick: %v\n", eff.Tick)
	}
	if eff.Reply {
		if eff.ReplyErr != nil {
			fmt.Fprintf(out, "reply: %v (code %s)\n", eff.ReplyErr, codeName(eff.ReplyErr))
		} else {
			out.WriteString("reply: ok\n")
		}
	}
	if eff.ContinueBackfill {
		out.WriteString("continue-backfill\n")
	}
	fmt.Fprintf(out, "phase: %s\n", h.core.Phase())
}

// compactionOf renders a commit's Compaction: " fold u10<=3 ...".
func compactionOf(m map[timely.GlobalId]timely.Timestamp) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for id, t := range m {
		parts = append(parts, fmt.Sprintf("%s<=%d", id, t))
	}
	sort.Strings(parts)
	return " fold " + strings.Join(parts, " ")
}

func checkpoints(cps map[pool.FlowId]timely.Timestamp) string {
	var parts []string
	for id, t := range cps {
		parts = append(parts, fmt.Sprintf("%d@%d", id, t))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func updates(m map[timely.GlobalId][]dataflow.Update) string {
	var parts []string
	for id, us := range m {
		var ts []string
		for _, u := range us {
			ts = append(ts, strconv.FormatUint(uint64(u.Time), 10))
		}
		sort.Strings(ts)
		parts = append(parts, fmt.Sprintf(" %s:%s", id, strings.Join(ts, ",")))
	}
	sort.Strings(parts)
	return strings.Join(parts, "")
}

func (h *script) state() string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase %s upper %d\n", h.core.Phase(), h.core.Upper())
	var colls []timely.GlobalId
	for id := range h.core.collections {
		colls = append(colls, id)
	}
	sort.Slice(colls, func(i, j int) bool { return colls[i].Compare(colls[j]) < 0 })
	for _, id := range colls {
		l := h.core.collections[id]
		fmt.Fprintf(&b, "collection %s upper %d log [%d, %d) %d changes\n", id, l.upper, l.start, l.upper, len(l.updates))
	}
	for _, id := range h.core.order {
		f := h.core.flows[id]
		fmt.Fprintf(&b, "flow %d %s checkpoint %d\n", id, f.state, f.checkpoint)
	}
	return b.String()
}

// codeName is the wire code of err, without its prefix.
func codeName(err error) string {
	return strings.TrimPrefix(messages.CodeOf(err).String(), "ERROR_CODE_")
}

// cachedOf names the sources a read is served from the coordinator's
// collection logs.
func cachedOf(r ReadRequest) string {
	if len(r.Cached) == 0 {
		return ""
	}
	var ids []string
	for id := range r.Cached {
		ids = append(ids, id.String())
	}
	sort.Strings(ids)
	return " cached=" + strings.Join(ids, ",")
}
