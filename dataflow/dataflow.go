package dataflow

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/arbor-db/arbor/timely"
)

// Config configures a Dataflow.
type Config struct {
	// AsOf is the first time the dataflow's output is exact for. Source
	// updates at earlier times are advanced to AsOf (their effects are
	// reported at AsOf), and the output arrangement starts with since AsOf.
	// Rehydration from a snapshot uses the snapshot's time.
	AsOf timely.Timestamp
	// DiscardUpdates stops the dataflow from buffering output updates for
	// TakeOutput; set it when only peeks read the dataflow (an index).
	DiscardUpdates bool
}

// Dataflow is a running instance of a Plan. It is fed updates per source
// and advanced by its sources' frontiers; when every source's frontier has
// passed a time, the dataflow computes the output change at that time,
// applies it to its output arrangement and buffers it for TakeOutput.
//
// The output frontier is the meet of the input frontiers (at least AsOf):
// the output is complete for every time before it. A Dataflow is not safe
// for concurrent use; one worker owns it.
type Dataflow struct {
	plan   *Plan
	config Config
	root   *instance

	// per source: frontier and updates not yet processed (time >= asOf)
	inputs map[timely.GlobalId]*input
	// current holds, while a time is processed, the batch of each source.
	current map[timely.GlobalId]batch

	upper   timely.Frontier // output frontier: all times before it processed
	started bool            // AsOf has been processed (constants emitted)

	output   *Arrangement // output rows keyed by the plan's arrangement key
	errors   *Arrangement // error messages (key = one string datum)
	key      []int
	keyIsRow bool // key is every column in order: the row is its own key
	// keyIsPrefix: the key is columns 0..k-1, so key order then value
	// order is row order
	keyIsPrefix bool
	updates     []Update
	errUpds     []ErrorUpdate
	sorter      updateSorter        // TakeOutput's buffers
	temporal    []*temporalFilterOp // every temporal filter, for their scheduled times
}

type input struct {
	schema   Schema
	shape    rowShape // the schema's types, for the fast check in Push
	frontier timely.Frontier
	// pending holds the updates not yet processed as two parallel slices:
	// rows (each with its diff) and times. Push appends to both; when every
	// pending update is ready and the times are in order (the common case),
	// advance hands the operators subslices of rows without copying them.
	pending []rowDiff
	times   []timely.Timestamp
	// take and takeTimes are advance's buffers for the updates it takes
	// when only some are ready or their times are out of order, reused from
	// call to call (no operator keeps a batch's slice past its step).
	take      []rowDiff
	takeTimes []timely.Timestamp
}

// NewDataflow instantiates plan. The dataflow's output frontier starts at
// config.AsOf; a plan that reads no source is computed at once and its
// output frontier is closed.
func NewDataflow(plan *Plan, config Config) *Dataflow {
	d := &Dataflow{
		plan:    plan,
		config:  config,
		inputs:  map[timely.GlobalId]*input{},
		upper:   timely.At(config.AsOf),
		output:  NewArrangement(),
		errors:  NewArrangement(),
		key:     plan.ArrangementKey(),
		current: map[timely.GlobalId]batch{},
	}
	d.keyIsPrefix = true
	for i, c := range d.key {
		d.keyIsPrefix = d.keyIsPrefix && c == i
	}
	d.keyIsRow = d.keyIsPrefix && len(d.key) == len(plan.Schema())
	d.output.keyedBy(d.key, d.keyIsRow)
	d.output.Compact(timely.At(config.AsOf))
	d.errors.Compact(timely.At(config.AsOf))
	d.root = d.instantiate(plan.root)
	for _, id := range plan.sources {
		schema := sourceSchema(plan.root, id)
		d.inputs[id] = &input{schema: schema, shape: schema.shape(), frontier: timely.Minimum()}
	}
	d.advance()
	return d
}

// sourceSchema finds the schema of source id in the plan tree.
func sourceSchema(n *node, id timely.GlobalId) Schema {
	if n.kind == kindGet && n.source == id {
		return n.schema
	}
	for _, in := range n.inputs {
		if s := sourceSchema(in, id); s != nil {
			return s
		}
	}
	return nil
}

func (d *Dataflow) instantiate(n *node) *instance {
	if n.kind == kindProject && n.inputs[0].kind == kindMap {
		m := n.inputs[0]
		return &instance{inputs: []*instance{d.instantiate(m.inputs[0])},
			op: &mapProjectOp{exprs: m.exprs, cols: n.cols}}
	}
	if n.kind == kindTopK && usesMonoTopK(n) && n.inputs[0].kind == kindMap {
		m := n.inputs[0]
		op := newMonoTopKOp(n)
		op.exprs = m.exprs
		return &instance{inputs: []*instance{d.instantiate(m.inputs[0])}, op: op}
	}
	if fin, join := fusedJoin(n); join != nil {
		op := newJoinOp(join.join, join.inputs)
		op.fin = fin
		inst := &instance{op: op}
		for _, in := range op.sources { // a monotonic Project under the join is fused in
			inst.inputs = append(inst.inputs, d.instantiate(in))
		}
		return inst
	}
	inst := &instance{}
	for _, in := range n.inputs {
		inst.inputs = append(inst.inputs, d.instantiate(in))
	}
	switch n.kind {
	case kindGet:
		inst.isGet, inst.source = true, n.source
	case kindConstant:
		inst.op = &constantOp{rows: n.constRows, asOf: d.config.AsOf}
	case kindFilter:
		inst.op = &filterOp{preds: n.exprs, vec: vectorizable(n.exprs)}
	case kindMap:
		inst.op = &mapOp{exprs: n.exprs}
	case kindProject:
		inst.op = &projectOp{cols: n.cols}
	case kindReduce:
		inst.op = newReduceOp(n)
		if allAccumulable(n.aggs) {
			inst.op = newAccumReduceOp(n)
		}
		if j, ok := inst.inputs[0].op.(*joinOp); ok && j.fin != nil && keepsNoRows(inst.op) {
			j.fin.transient = true
		}
	case kindUnion:
		inst.op = unionOp{}
	case kindDistinct:
		inst.op = newDistinctOp()
	case kindNegate:
		inst.op = negateOp{}
	case kindTopK:
		inst.op = newTopKOp(n)
		if usesMonoTopK(n) {
			inst.op = newMonoTopKOp(n)
		}
	case kindArrangeBy:
		inst.op = passOp{}
	case kindTemporalFilter:
		o := newTemporalFilterOp(n)
		d.temporal = append(d.temporal, o)
		inst.op = o
	}
	return inst
}

// keepsNoRows reports whether an operator keeps none of its input rows
// past its step: a Reduce that arranges nothing (monotonic min/max, or
// accumulable over a monotonic or non-negative input) builds its own output
// rows and keys, copying datums out of its input. A join feeding such an
// operator may reuse its output rows' memory from step to step.
func keepsNoRows(op operator) bool {
	switch o := op.(type) {
	case *reduceOp:
		return o.monotonic
	case *accumReduceOp:
		return o.monotonic || o.nonNegative
	}
	return false
}

// fusedJoin recognises a Join, alone or followed by a Filter, a Project or
// a Filter then a Project, which the join applies to each row as it builds
// it. It returns the join node and what to apply (nil: nothing), or a nil
// node.
func fusedJoin(n *node) (*joinFinish, *node) {
	fin := &joinFinish{}
	if n.kind == kindProject {
		fin.project, fin.cols, n = true, n.cols, n.inputs[0]
	}
	if n.kind == kindFilter {
		fin.preds, n = n.exprs, n.inputs[0]
	}
	switch {
	case n.kind != kindJoin:
		return nil, nil
	case !fin.project && fin.preds == nil:
		return nil, n
	}
	return fin, n
}

// Plan returns the plan the dataflow runs.
func (d *Dataflow) Plan() *Plan { return d.plan }

// Schema returns the schema of the output.
func (d *Dataflow) Schema() Schema { return d.plan.Schema() }

// Sources returns the ids of the sources the dataflow reads.
func (d *Dataflow) Sources() []timely.GlobalId { return d.plan.Sources() }

// InputFrontier returns a source's frontier, or false for an unknown
// source.
func (d *Dataflow) InputFrontier(source timely.GlobalId) (timely.Frontier, bool) {
	in, ok := d.inputs[source]
	if !ok {
		return timely.Frontier{}, false
	}
	return in.frontier, true
}

// OutputFrontier returns the output's upper: the output (and the output
// arrangement) is complete for every time before it.
func (d *Dataflow) OutputFrontier() timely.Frontier { return d.upper }

// Since returns the since of the output arrangement.
func (d *Dataflow) Since() timely.Frontier { return d.output.Since() }

// Arrangement returns the output arrangement, keyed by the plan's
// ArrangementKey. The caller may read it but must not update or compact
// it (use Compact).
func (d *Dataflow) Arrangement() *Arrangement { return d.output }

// Push offers updates of one source. Every row must match the source's
// schema and every time must be admitted by the source's frontier; otherwise
// nothing is accepted and the error (ErrUnknownSource, ErrInvalidRow,
// ErrNotAdmitted) names the problem. Updates take effect when the frontiers
// pass their times (see AdvanceInput). Rows are retained; the caller must
// not modify them afterwards.
func (d *Dataflow) Push(source timely.GlobalId, updates []Update) error {
	in, ok := d.inputs[source]
	if !ok {
		return fmt.Errorf("%w: push to %s, the dataflow reads %v", ErrUnknownSource, source, d.plan.sources)
	}
	if len(updates) == 0 {
		return nil
	}
	// One pass appends the updates and finds their least time and any
	// zero diff, then one checks the rows' types (see batchMatches). A
	// batch that fails either is taken back out, and checked an update at
	// a time to name the first bad one: nothing of it is kept.
	start := len(in.pending)
	in.pending = slices.Grow(in.pending, len(updates))
	in.times = slices.Grow(in.times, len(updates))
	pending, times := in.pending[start:start+len(updates)], in.times[start:start+len(updates)]
	least, zero := updates[0].Time, false
	for i := range updates {
		u := &updates[i]
		least = min(least, u.Time)
		zero = zero || u.Diff == 0
		pending[i] = rowDiff{row: u.Row, diff: u.Diff}
		times[i] = u.Time
	}
	if !in.frontier.Admits(least) {
		clear(pending) // do not keep the rows alive
		for i := range updates {
			if u := &updates[i]; !in.frontier.Admits(u.Time) {
				return fmt.Errorf("%w: update %d of %s is at %d, the source's frontier is %s", ErrNotAdmitted, i, source, u.Time, in.frontier)
			}
		}
	}
	if !in.shape.batchMatches(updates) {
		for i := range updates {
			if u := &updates[i]; !in.shape.rowMatches(u.Row) {
				if err := in.schema.Validate(u.Row); err != nil {
					clear(pending)
					return fmt.Errorf("update %d of %s: %w", i, source, err)
				}
			}
		}
	}
	if zero || least < d.config.AsOf {
		// Drop zero diffs and advance times before AsOf to AsOf.
		n := 0
		for i := range pending {
			if pending[i].diff == 0 {
				continue
			}
			pending[n], times[n] = pending[i], max(times[i], d.config.AsOf)
			n++
		}
		clear(pending[n:])
		pending, times = pending[:n], times[:n]
	}
	in.pending, in.times = in.pending[:start+len(pending)], in.times[:start+len(times)]
	return nil
}

// AdvanceInput tells the dataflow that source will send no more updates at
// times before frontier, and processes every time the output frontier
// thereby passes. A frontier that goes backwards is ErrNotAdmitted.
func (d *Dataflow) AdvanceInput(source timely.GlobalId, frontier timely.Frontier) error {
	in, ok := d.inputs[source]
	if !ok {
		return fmt.Errorf("%w: advance %s, the dataflow reads %v", ErrUnknownSource, source, d.plan.sources)
	}
	if !in.frontier.LessEqual(frontier) {
		return fmt.Errorf("%w: frontier of %s cannot go back from %s to %s", ErrNotAdmitted, source, in.frontier, frontier)
	}
	in.frontier = frontier
	d.advance()
	return nil
}

// maxKeptBuffer bounds the updates an input's buffers keep room for
// between calls.
const maxKeptBuffer = 1 << 14

func byTime(a, b Update) int { return cmp.Compare(a.Time, b.Time) }

// advance processes every pending time before the meet of the input
// frontiers, in increasing order.
func (d *Dataflow) advance() {
	meet := timely.Closed()
	for _, in := range d.inputs {
		meet = meet.Meet(in.frontier)
	}
	if !d.upper.LessThan(meet) {
		return
	}
	ready := map[timely.GlobalId]readyRows{}
	var times []timely.Timestamp
	seen := map[timely.Timestamp]bool{}
	if !d.started {
		d.started = true
		times = append(times, d.config.AsOf)
		seen[d.config.AsOf] = true
	}
	for id, in := range d.inputs {
		r, ok := in.takeReady(meet)
		if !ok {
			continue
		}
		ready[id] = r
		last, any := timely.Timestamp(0), false // the last time seen: updates come in runs of one time
		for _, t := range r.times {
			if any && t == last {
				continue
			}
			last, any = t, true
			if !seen[t] {
				seen[t] = true
				times = append(times, t)
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	for {
		// The next time is the next input time or the next time a temporal
		// filter has updates scheduled for, whichever is first, as long as
		// it is before the meet (scheduling can add times as we go).
		t, ok := timely.Timestamp(0), false
		if len(times) > 0 {
			t, ok = times[0], true
		}
		if s, found := d.nextScheduled(); found && !meet.Admits(s) && (!ok || s < t) {
			t, ok = s, true
		}
		if !ok {
			break
		}
		if len(times) > 0 && times[0] == t {
			times = times[1:]
		}
		for id, r := range ready {
			n := 0
			for n < len(r.times) && r.times[n] == t {
				n++
			}
			if n == 0 {
				delete(d.current, id)
				continue
			}
			d.current[id] = batch{rows: r.rows[:n:n]}
			ready[id] = readyRows{rows: r.rows[n:], times: r.times[n:]}
		}
		d.emit(t, d.eval(d.root, t))
	}
	for id := range d.current {
		delete(d.current, id)
	}
	for _, in := range d.inputs {
		in.release()
	}
	d.upper = meet
}

// readyRows are an input's updates ready to process, in order of time:
// rows[i] is at times[i].
type readyRows struct {
	rows  []rowDiff
	times []timely.Timestamp
}

// takeReady returns the pending updates whose times the meet no longer
// admits, in order of time, keeping the others pending. When all pending
// updates are ready and in order it returns the pending slices themselves
// (release empties them afterwards); otherwise it copies the ready ones
// into the take buffers.
func (in *input) takeReady(meet timely.Frontier) (readyRows, bool) {
	if len(in.pending) == 0 {
		return readyRows{}, false
	}
	all, sorted := true, true
	for i, t := range in.times {
		if meet.Admits(t) {
			all = false
			break
		}
		if i > 0 && t < in.times[i-1] {
			sorted = false
		}
	}
	if all && sorted {
		r := readyRows{rows: in.pending, times: in.times}
		in.pending, in.take = in.take[:0], in.pending
		in.times, in.takeTimes = in.takeTimes[:0], in.times
		return r, true
	}
	// Operators take unconsolidated batches (each applies a row's updates
	// one at a time), so the updates are only split by time, not sorted by
	// row; TakeOutput consolidates the output.
	var take []Update
	keep := 0
	for i, t := range in.times {
		if meet.Admits(t) {
			in.pending[keep], in.times[keep] = in.pending[i], t
			keep++
			continue
		}
		take = append(take, Update{Row: in.pending[i].row, Time: t, Diff: in.pending[i].diff})
	}
	clear(in.pending[keep:])
	in.pending, in.times = in.pending[:keep], in.times[:keep]
	if len(take) == 0 {
		return readyRows{}, false
	}
	slices.SortStableFunc(take, byTime)
	rows, times := in.take[:0], in.takeTimes[:0]
	for _, u := range take {
		rows = append(rows, rowDiff{row: u.Row, diff: u.Diff})
		times = append(times, u.Time)
	}
	in.take, in.takeTimes = rows, times
	return readyRows{rows: rows, times: times}, true
}

// release drops the taken rows and keeps buffers the size of an ordinary
// batch, not of a backfill.
func (in *input) release() {
	clear(in.take)
	in.take, in.takeTimes = in.take[:0], in.takeTimes[:0]
	if cap(in.take) > maxKeptBuffer {
		in.take, in.takeTimes = nil, nil
	}
	if len(in.pending) == 0 && cap(in.pending) > maxKeptBuffer {
		in.pending, in.times = nil, nil
	}
}

// nextScheduled returns the earliest time any temporal filter has updates
// scheduled for.
func (d *Dataflow) nextScheduled() (timely.Timestamp, bool) {
	var next timely.Timestamp
	found := false
	for _, o := range d.temporal {
		if t, ok := o.next(); ok && (!found || t < next) {
			next, found = t, true
		}
	}
	return next, found
}

func (d *Dataflow) eval(inst *instance, t timely.Timestamp) batch {
	if inst.isGet {
		return d.current[inst.source]
	}
	in := make([]batch, len(inst.inputs))
	for i, c := range inst.inputs {
		in[i] = d.eval(c, t)
	}
	return inst.op.step(t, in)
}

func (d *Dataflow) emit(t timely.Timestamp, b batch) {
	if !d.config.DiscardUpdates {
		d.updates = slices.Grow(d.updates, len(b.rows))
	}
	for _, r := range b.rows {
		if d.keyIsRow {
			d.output.Update(r.row, r.row, t, r.diff)
		} else {
			d.output.updateAt(colsKey(r.row, d.key), r.row, t, r.diff)
		}
		if !d.config.DiscardUpdates {
			d.updates = append(d.updates, Update{Row: r.row, Time: t, Diff: r.diff})
		}
	}
	for _, e := range b.errs {
		k := Row{String(e.err)}
		d.errors.Update(k, k, t, e.diff)
		if !d.config.DiscardUpdates {
			d.errUpds = append(d.errUpds, ErrorUpdate{Err: e.err, Time: t, Diff: e.diff})
		}
	}
}

// TakeOutput returns the output updates and error updates produced since
// the last call, consolidated and ordered by time, and forgets them. All
// their times are before OutputFrontier. With Config.DiscardUpdates it
// returns nothing.
func (d *Dataflow) TakeOutput() ([]Update, []ErrorUpdate) {
	us, es := consolidateUpdates(d.updates, &d.sorter), ConsolidateErrors(d.errUpds)
	d.updates, d.errUpds = nil, nil
	return us, es
}

// Compact allows the dataflow to forget output history before since: the
// output arrangement is compacted and peeks before since fail with
// ErrCompacted. Until it is called the output arrangement keeps the history
// of every time since AsOf, so the owner should call it as read holds
// allow (AllowCompaction). A since that goes backwards is ErrNotAdmitted; a closed
// since drops the arrangement's contents.
func (d *Dataflow) Compact(since timely.Frontier) error {
	if !d.output.Since().LessEqual(since) {
		return fmt.Errorf("%w: since cannot go back from %s to %s", ErrNotAdmitted, d.output.Since(), since)
	}
	d.output.Compact(since)
	d.errors.Compact(since)
	return nil
}

// Stats describes the memory a dataflow holds.
type Stats struct {
	// OutputKeys and OutputEntries count the output arrangement's keys and
	// (value, time, diff) entries.
	OutputKeys, OutputEntries int
	// StateEntries counts entries in the operators' arrangements.
	StateEntries int
	// StateGroups counts the groups whose output Reduce and TopK operators
	// remember.
	StateGroups int
	// Pending counts source updates not yet processed.
	Pending int
}

// Stats returns the dataflow's current sizes.
func (d *Dataflow) Stats() Stats {
	var s Stats
	s.OutputKeys, s.OutputEntries = d.output.Len()
	for _, in := range d.inputs {
		s.Pending += len(in.pending)
	}
	for _, o := range d.temporal {
		s.Pending += o.pending()
	}
	var walk func(*instance)
	walk = func(inst *instance) {
		for _, a := range operatorArrangements(inst.op) {
			_, n := a.Len()
			s.StateEntries += n
		}
		switch o := inst.op.(type) {
		case *reduceOp:
			s.StateGroups += o.outputs.len()
			if o.monoGroups != nil {
				s.StateGroups += o.monoGroups.len()
			}
		case *accumReduceOp:
			s.StateGroups += o.groups.len()
		case *topKOp:
			s.StateGroups += o.windows.len()
		case *monoTopKOp:
			s.StateGroups += o.tops.len()
		case *joinOp:
			for _, st := range o.stages {
				for _, x := range []*appendIndex{st.leftApp, st.rightApp} {
					if x != nil {
						s.StateEntries += x.rows
					}
				}
			}
		}
		for _, c := range inst.inputs {
			walk(c)
		}
	}
	walk(d.root)
	return s
}

func operatorArrangements(op operator) []*Arrangement {
	switch o := op.(type) {
	case *reduceOp:
		return []*Arrangement{o.input}
	case *accumReduceOp:
		return []*Arrangement{o.input}
	case *topKOp:
		return []*Arrangement{o.input}
	case *distinctOp:
		return []*Arrangement{o.state}
	case *joinOp:
		var out []*Arrangement
		for _, s := range o.stages {
			for _, a := range []*Arrangement{s.left, s.right} {
				if a != nil {
					out = append(out, a)
				}
			}
		}
		return out
	}
	return nil
}

func allAccumulable(aggs []aggregate) bool {
	for _, a := range aggs {
		if !a.accumulable() {
			return false
		}
	}
	return true
}
