package dataflow

import (
	"math"
	"math/big"
	"math/bits"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// reduceOp groups its input by key and maintains one output row per
// non-empty group: the key followed by the aggregates. It arranges its
// input by the group key, and when a group changes at a time it recomputes
// the group's aggregates from the arrangement (in row order) and emits the
// retraction of the old output row and the new one. Reductions of only
// counts and integer sums use accumReduceOp instead.
type reduceOp struct {
	key    []int
	aggs   []aggregate
	minMax bool // every aggregate is min or max: insertions extend the output
	// monotonic: min/max over an append-only input; the output alone is
	// the state (input stays empty); a retraction breaks the operator.
	monotonic  bool
	broken     bool
	monoGroups *groupTable[monoReduceGroup] // the groups' state when monotonic
	touched    []touchedGroup               // reused by stepMonotonic
	hashes     []uint64                     // reused by stepMonotonic: the rows' key hashes
	idx        []int32                      // reused by stepMonotonic: the rows' groups (findBatch)
	input      *Arrangement                 // group key -> input rows
	outputs    *groupTable[groupOutput]
	buf        []rowDiff // reused to read a group
}

// groupOutput is what a Reduce currently shows for a group: a row, an
// error, or nothing.
type groupOutput struct {
	row Row
	err string
}

// change returns the updates that turn the output o into next.
func (o groupOutput) change(next groupOutput, out *batch) {
	if o.err == next.err && rowsEqual(o.row, next.row) {
		return
	}
	if o.err != "" {
		out.errs = append(out.errs, errDiff{err: o.err, diff: -1})
	} else if o.row != nil {
		out.rows = append(out.rows, rowDiff{row: o.row, diff: -1})
	}
	if next.err != "" {
		out.errs = append(out.errs, errDiff{err: next.err, diff: 1})
	} else if next.row != nil {
		out.rows = append(out.rows, rowDiff{row: next.row, diff: 1})
	}
}

func newReduceOp(n *node) *reduceOp {
	o := &reduceOp{key: n.groupKey, aggs: n.aggs, input: NewArrangement(), outputs: newGroupTable[groupOutput](), minMax: true}
	for _, a := range n.aggs {
		o.minMax = o.minMax && (a.fn == aggMin || a.fn == aggMax)
	}
	o.monotonic = o.minMax && n.inputs[0].monotonic
	if o.monotonic {
		o.monoGroups = newGroupTable[monoReduceGroup]()
	}
	return o
}

func (o *reduceOp) compact(t timely.Timestamp) { o.input.advanceSince(t) }

func (o *reduceOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	out := batch{errs: append([]errDiff(nil), in[0].errs...)}
	if o.monotonic {
		return o.stepMonotonic(out, in[0].rows)
	}
	for _, kg := range groupByKey(in[0].rows, o.key) {
		k := kg.ref()
		for _, r := range kg.rows {
			o.input.updateAt(k, r.row, t, r.diff)
		}
		g := o.outputs.findOrAdd(k)
		var next groupOutput
		if o.minMax && g.state.row != nil && allInsertions(kg.rows) {
			// The group had no negative multiplicity (it shows a row) and
			// only gains rows, so its min and max are those of the old
			// output and the new rows: no need to read the group.
			next.row = extendMinMax(g.state.row, len(kg.key), o.aggs, kg.rows, false)
		} else {
			o.buf = readInto(o.buf[:0], o.input, k)
			next.row, next.err = reduceGroup(kg.key, o.aggs, o.buf)
		}
		g.state.change(next, &out)
		g.state = next
		if next.row == nil && next.err == "" {
			o.outputs.remove(g)
		}
	}
	clear(o.buf)
	o.buf = o.buf[:0]
	if cap(o.buf) > 1<<12 {
		o.buf = nil // do not hold on to a huge group's buffer
	}
	out.rows = consolidateRows(out.rows)
	out.errs = consolidateErrs(out.errs)
	return out
}

// stepMonotonic is step for min and max over an append-only input: a
// group's new output is its old output extended by each inserted row, or
// for a new group the aggregates of its first row; no group is ever read.
// Rows are applied one at a time (no grouping of the batch); a group
// touched by the batch emits one change, from its output before the batch.
func (o *reduceOp) stepMonotonic(out batch, rows []rowDiff) batch {
	if !o.broken && !allInsertions(rows) {
		var bad Row
		var ok bool
		if rows, bad, ok = insertions(rows); !ok {
			o.broken = true
			out.errs = append(out.errs, errDiff{err: retractionError("Reduce", bad), diff: 1})
		}
	}
	if o.broken {
		out.errs = consolidateErrs(out.errs)
		return out
	}
	touched := o.touched[:0]
	// monoGroups is found by keyHash only: no arrangement reads its hashes.
	o.hashes, o.idx = keyHashes(o.hashes, rows, o.key), slices.Grow(o.idx[:0], len(rows))[:len(rows)]
	o.monoGroups.findBatch(rows, o.key, o.hashes, o.idx)
	var g *group[monoReduceGroup]
	for i, r := range rows {
		switch x := o.idx[i]; {
		case x != 0:
			g = o.monoGroups.at(x - 1)
		case i > 0 && o.idx[i-1] == 0 && o.hashes[i] == o.hashes[i-1] && r.row.sameCols(o.key, rows[i-1].row):
			// the group of the row before, new in this batch: g already
		default: // a new group, or one added by an earlier row of the batch
			g = o.monoGroups.findOrAdd(keyRef{hash: o.hashes[i], src: r.row, cols: o.key})
		}
		st := &g.state
		if !st.touched {
			st.touched = true
			touched = append(touched, touchedGroup{g: g, before: st.out})
		}
		one := [1]rowDiff{r}
		if st.out.row != nil {
			next := extendMinMax(st.out.row, len(g.key), o.aggs, one[:], st.owned)
			st.owned = st.owned || (len(next) > 0 && &next[0] != &st.out.row[0])
			st.out.row = next
		} else {
			st.out.row, st.out.err = reduceGroup(g.key, o.aggs, one[:])
			st.owned = st.out.row != nil
		}
	}
	for _, tg := range touched {
		tg.before.change(tg.g.state.out, &out)
		tg.g.state.touched, tg.g.state.owned = false, false
	}
	clear(touched)
	o.touched = touched[:0]
	// out.rows is consolidated already: each touched group contributes its
	// old row and its new one, which differ, and rows of different groups
	// differ in their keys.
	out.errs = consolidateErrs(out.errs)
	return out
}

// monoReduceGroup is a group of a monotonic min/max Reduce: its output,
// and while a step runs, whether the step touched it. It is small, so a
// group's hash, state and key share a cache line or two.
type monoReduceGroup struct {
	out     groupOutput
	touched bool
	// owned: out.row was built during this step and nothing else has it
	// yet, so a later row of the step may change it in place (a closing
	// auction's bids arrive in one batch: one row per group, not one per
	// new maximum).
	owned bool
}

// touchedGroup is a group a step touched and its output before the step.
type touchedGroup struct {
	g      *group[monoReduceGroup]
	before groupOutput
}

func allInsertions(rows []rowDiff) bool {
	for _, r := range rows {
		if r.diff <= 0 {
			return false
		}
	}
	return true
}

// extendMinMax returns the output row of a min/max Reduce group whose
// output was old (the key, then one column per aggregate) after rows are
// inserted. It returns old itself when no aggregate changes, or when owned
// (no one else holds old) old changed in place; otherwise a changed copy.
func extendMinMax(old Row, keyLen int, aggs []aggregate, rows []rowDiff, owned bool) Row {
	out := old
	for i, a := range aggs {
		best := out[keyLen+i]
		for _, r := range rows {
			d := r.row[a.col]
			if d.IsNull() {
				continue
			}
			if best.IsNull() || (a.fn == aggMin && d.Compare(best) < 0) || (a.fn == aggMax && d.Compare(best) > 0) {
				best = d
			}
		}
		if !best.Equal(out[keyLen+i]) || best.Type() != out[keyLen+i].Type() {
			if !owned && &out[0] == &old[0] {
				out = append(Row(nil), old...) // copy on first change: rows are shared
			}
			out[keyLen+i] = best
		}
	}
	return out
}

// reduceGroup computes the output of one group from its consolidated
// contents, given in row order. It returns the output row, or nil when the
// group is empty, or an error message.
func reduceGroup(key Row, aggs []aggregate, vals []rowDiff) (Row, string) {
	if len(vals) == 0 {
		return nil, ""
	}
	for _, v := range vals {
		if v.diff < 0 {
			return nil, negativeGroupError(key)
		}
	}
	out := make(Row, 0, len(key)+len(aggs))
	out = append(out, key...)
	for _, a := range aggs {
		d, err := aggregateGroup(a, vals)
		if err != "" {
			return nil, "Reduce: group " + key.String() + ": " + err
		}
		out = append(out, d)
	}
	return out, ""
}

func negativeGroupError(key Row) string {
	return "Reduce: group " + key.String() + " has a row with a negative multiplicity"
}

// int128 is a two's complement 128-bit integer, enough to sum any number
// of int64 values times int64 multiplicities without intermediate overflow
// in practice, so the result does not depend on the order of updates.
type int128 struct {
	hi int64
	lo uint64
}

func mul64(a, b int64) int128 {
	neg := (a < 0) != (b < 0)
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = -ua
	}
	if b < 0 {
		ub = -ub
	}
	hi, lo := bits.Mul64(ua, ub)
	r := int128{hi: int64(hi), lo: lo}
	if neg {
		r = r.neg()
	}
	return r
}

func (x int128) neg() int128 {
	lo, borrow := bits.Sub64(0, x.lo, 0)
	hi := -x.hi - int64(borrow)
	return int128{hi: hi, lo: lo}
}

func (x int128) add(y int128) int128 {
	lo, carry := bits.Add64(x.lo, y.lo, 0)
	return int128{hi: x.hi + y.hi + int64(carry), lo: lo}
}

func (x int128) int64() (int64, bool) {
	v := int64(x.lo)
	return v, (x.hi == 0 && v >= 0) || (x.hi == -1 && v < 0)
}

func (x int128) float64() float64 {
	f, _ := new(big.Float).SetInt(x.big()).Float64()
	return f
}

func (x int128) big() *big.Int {
	b := new(big.Int).SetInt64(x.hi)
	b.Lsh(b, 64)
	return b.Add(b, new(big.Int).SetUint64(x.lo))
}

// accum accumulates one count, sum or avg aggregate: the multiplicity of
// the rows it counts (non-null ones, or all for count(*)) and their sum.
// Integer sums are exact, so accumulating in any order gives one result.
type accum struct {
	count  int64
	isum   int128
	fsum   float64
	finite bool // no infinite or NaN input seen (floats only)
}

// add accumulates row with multiplicity diff.
func (acc *accum) add(a aggregate, row Row, diff int64) {
	if a.col < 0 {
		acc.count += diff
		return
	}
	d := row[a.col]
	if d.IsNull() {
		return
	}
	acc.count += diff
	switch {
	case a.fn == aggCount:
	case a.typ == TypeInt64:
		acc.isum = acc.isum.add(mul64(d.AsInt64(), diff))
	default:
		f := d.AsFloat64()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			acc.finite = false
		}
		acc.fsum += f * float64(diff)
	}
}

// finish turns an accumulator into the aggregate's value, or an error.
func (acc *accum) finish(a aggregate) (Datum, string) {
	if a.fn == aggCount {
		return Int64(acc.count), ""
	}
	if acc.count == 0 {
		return Null(), ""
	}
	if a.typ == TypeInt64 {
		if a.fn == aggAvg {
			return Float64(acc.isum.float64() / float64(acc.count)), ""
		}
		s, ok := acc.isum.int64()
		if !ok {
			return Datum{}, "int64 overflow in sum"
		}
		return Int64(s), ""
	}
	if acc.finite && math.IsInf(acc.fsum, 0) {
		return Datum{}, "float64 overflow in " + a.fn.String()
	}
	if a.fn == aggAvg {
		return Float64(acc.fsum / float64(acc.count)), ""
	}
	return Float64(acc.fsum), ""
}

// accumulable reports whether an aggregate can be maintained by adding and
// subtracting, exactly: counts, and sums and averages of integers. (Float
// sums depend on the order of additions, so they are recomputed from the
// group, in row order.)
func (a aggregate) accumulable() bool {
	return a.fn == aggCount || ((a.fn == aggSum || a.fn == aggAvg) && a.typ == TypeInt64)
}

// aggregateGroup computes one aggregate over a non-empty group whose
// multiplicities are all positive, or returns an error message.
func aggregateGroup(a aggregate, vals []rowDiff) (Datum, string) {
	if a.fn == aggMin || a.fn == aggMax {
		var best Datum
		for _, v := range vals {
			d := v.row[a.col]
			if d.IsNull() {
				continue
			}
			if best.IsNull() || (a.fn == aggMin && d.Compare(best) < 0) || (a.fn == aggMax && d.Compare(best) > 0) {
				best = d
			}
		}
		return best, ""
	}
	acc := accum{finite: true}
	for _, v := range vals {
		acc.add(a, v.row, v.diff)
	}
	return acc.finish(a)
}
