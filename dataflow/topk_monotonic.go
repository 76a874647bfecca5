package dataflow

import (
	"math"
	"sort"

	"github.com/arbor-db/arbor/timely"
)

// monoTopKOp is TopK with a limit over a monotonic (append-only) input:
// rows are only ever inserted, so a row that falls outside a group's first
// offset+limit positions can never come back. Per group it keeps only the
// rows covering those positions (the "top"), not the group, and a batch is
// a compare of each new row with the top's last row; Materialize's
// MonotonicTopK. A retraction reaching it is an error (see monotonic.go).
type monoTopKOp struct {
	key    []int
	order  []orderColumn
	offset int64
	end    int64 // offset+limit: the positions kept are [0, end)
	tops   *groupTable[monoTop]
	broken bool // a retraction arrived: the error is out, nothing more is

	// exprs is a Map fused under the TopK (nil for none): each input row
	// is extended into scratch, and only a row that may enter its group's
	// top is copied out, so the rows a window drops are never built.
	exprs   []*Expr
	scratch Row
	cands   []rowDiff // reused: the rows of a batch that may enter

	// firstInt: the first order column is int64, so most comparisons with
	// a top's last row are decided by two int64 values (atOrAfter).
	firstInt bool
}

// monoTop is the fewest leading rows of a group, in order, whose copies
// cover the positions [0, end).
type monoTop struct {
	rows   []rowDiff
	copies int64 // sum of the rows' diffs
}

func newMonoTopKOp(n *node) *monoTopKOp {
	end := int64(math.MaxInt64)
	if n.offset <= math.MaxInt64-n.limit {
		end = n.offset + n.limit
	}
	o := &monoTopKOp{key: n.groupKey, order: n.order, offset: n.offset, end: end, tops: newGroupTable[monoTop]()}
	o.firstInt = len(n.order) > 0 && n.inputs[0].schema[n.order[0].col].Type == TypeInt64
	return o
}

// atOrAfter reports whether row orders at or after last:
// compareBy(order, row, last) >= 0, decided by the first order column
// alone when both values there are int64 and differ.
func (o *monoTopKOp) atOrAfter(row, last Row) bool {
	if o.firstInt {
		oc := o.order[0]
		x, y := &row[oc.col], &last[oc.col]
		if x.isInt() && y.isInt() && x.w != y.w {
			return (x.w > y.w) != oc.desc // an int64's word orders like it
		}
	}
	return compareBy(o.order, row, last) >= 0
}

// usesMonoTopK reports whether a TopK node runs as monoTopKOp: it has a
// limit and reads a monotonic input. A Map directly under it is fused
// into it (see monoTopKOp.exprs).
func usesMonoTopK(n *node) bool { return n.limit >= 0 && n.inputs[0].monotonic }

func (o *monoTopKOp) compact(timely.Timestamp) {}

func (o *monoTopKOp) step(_ timely.Timestamp, in []batch) batch {
	out := batch{errs: append([]errDiff(nil), in[0].errs...)}
	if o.broken {
		out.errs = consolidateErrs(out.errs)
		return out
	}
	cands := o.candidates(in[0].rows, &out)
	defer func() {
		clear(o.cands) // do not keep rows alive
		o.cands = o.cands[:0]
		if cap(o.cands) > maxKeptBuffer {
			o.cands = nil // nor a backfill's buffer
		}
	}()
	if o.end == 0 { // limit 0: no rows, but the Map's errors
		cands = nil
	}
	for _, kg := range groupByKey(cands, o.key) {
		rows, bad, ok := insertions(kg.rows)
		if !ok {
			o.broken = true
			out.errs = append(out.errs, errDiff{err: retractionError("TopK", bad), diff: 1})
			break
		}
		k := kg.ref()
		g := o.tops.find(k)
		var old monoTop
		if g != nil {
			old = g.state
		}
		next, changed := old.extend(o.order, o.end, rows)
		if !changed {
			continue
		}
		for _, r := range windowOf(old.rows, o.offset, o.end) {
			out.rows = append(out.rows, rowDiff{row: r.row, diff: -r.diff})
		}
		out.rows = append(out.rows, windowOf(next.rows, o.offset, o.end)...)
		if g == nil {
			g = o.tops.add(k)
		}
		g.state = next
	}
	out.rows = consolidateRows(out.rows)
	out.errs = consolidateErrs(out.errs)
	return out
}

// candidates returns the rows of a batch (mapped, with a fused Map) that
// may enter their group's top: every retraction (step reports it), and
// every insertion that orders before the last row of a full top. A row
// the top as it was before the batch leaves out stays out, since a top
// only improves as rows are inserted. Map errors go to out.
func (o *monoTopKOp) candidates(rows []rowDiff, out *batch) []rowDiff {
	o.cands = o.cands[:0]
	if o.exprs == nil && len(o.key) == 0 && o.firstInt {
		return o.candidatesOneGroup(rows)
	}
	var last *group[monoTop] // the group of the previous row: batches often repeat it
	for _, r := range rows {
		row := r.row
		if o.exprs != nil {
			var err error
			if row, err = o.mapInto(row); err != nil {
				out.errs = append(out.errs, errDiff{err: err.Error(), diff: r.diff})
				continue
			}
		}
		if r.diff > 0 {
			g := last
			if g == nil || !row.equalCols(o.key, g.key) {
				g = o.tops.find(colsKey(row, o.key))
			}
			if g != nil {
				last = g
				if top := &g.state; top.copies >= o.end && o.atOrAfter(row, top.rows[len(top.rows)-1].row) {
					continue
				}
			}
		}
		if o.exprs != nil {
			row = append(make(Row, 0, len(row)), row...)
		}
		o.cands = append(o.cands, rowDiff{row: row, diff: r.diff})
	}
	clear(o.scratch) // do not keep the last row's strings alive
	return o.cands
}

// candidatesOneGroup is candidates for a TopK without a group key or a
// fused Map whose first order column is int64 (q7: the highest bid): the
// one group's top is found once per batch, and each insertion's order
// value is compared unboxed with the bound, the order value of the top's
// last row, before any row comparison. Only a tie with the bound (or a
// value that is not an int64: a null) compares rows.
func (o *monoTopKOp) candidatesOneGroup(rows []rowDiff) []rowDiff {
	if len(rows) == 0 {
		return o.cands
	}
	g := o.tops.find(colsKey(rows[0].row, nil))
	if g == nil || g.state.copies < o.end {
		return append(o.cands, rows...) // the top is not full: every row may enter
	}
	last := g.state.rows[len(g.state.rows)-1].row
	oc := o.order[0]
	b := &last[oc.col]
	if !b.isInt() { // the bound is null: compare rows
		for _, r := range rows {
			if r.diff > 0 && compareBy(o.order, r.row, last) >= 0 {
				continue
			}
			o.cands = append(o.cands, r)
		}
		return o.cands
	}
	bound, desc := b.w, oc.desc // an int64's word orders like it
	for _, r := range rows {
		if r.diff > 0 {
			if d := &r.row[oc.col]; d.isInt() && d.w != bound {
				if (d.w > bound) != desc {
					continue // orders after the top's last row: it cannot enter
				}
			} else if compareBy(o.order, r.row, last) >= 0 {
				continue
			}
		}
		o.cands = append(o.cands, r)
	}
	return o.cands
}

// mapInto evaluates the fused Map over row into the scratch row, each
// expression seeing the columns appended before it.
func (o *monoTopKOp) mapInto(row Row) (Row, error) {
	s := append(o.scratch[:0], row...)
	for _, e := range o.exprs {
		d, err := e.Eval(s)
		if err != nil {
			o.scratch = s
			return nil, err
		}
		s = append(s, d)
	}
	o.scratch = s
	return s, nil
}

// extend returns the top after rows (all insertions) are added, and
// whether it changed. A row enters when the top does not cover end
// positions yet or the row orders before the top's last row; when none
// enters, nothing is copied. The old top's slice is never modified.
func (m monoTop) extend(order []orderColumn, end int64, rows []rowDiff) (monoTop, bool) {
	next, copied := m, false
	for _, r := range rows {
		if next.copies >= end && compareBy(order, r.row, next.rows[len(next.rows)-1].row) >= 0 {
			continue
		}
		if !copied {
			next.rows = append(make([]rowDiff, 0, len(m.rows)+1), m.rows...)
			copied = true
		}
		i := sort.Search(len(next.rows), func(i int) bool { return compareBy(order, next.rows[i].row, r.row) >= 0 })
		if i < len(next.rows) && next.rows[i].row.Equal(r.row) {
			next.rows[i].diff += r.diff
		} else {
			next.rows = append(next.rows, rowDiff{})
			copy(next.rows[i+1:], next.rows[i:])
			next.rows[i] = r
		}
		next.copies += r.diff
		// Drop trailing rows that are not needed to cover end positions.
		for last := len(next.rows) - 1; last > 0 && next.copies-next.rows[last].diff >= end; last-- {
			next.copies -= next.rows[last].diff
			next.rows[last] = rowDiff{}
			next.rows = next.rows[:last]
		}
	}
	return next, copied
}

// windowOf returns the copies of rows (in order, covering positions from
// 0) at positions [offset, end).
func windowOf(rows []rowDiff, offset, end int64) []rowDiff {
	var out []rowDiff
	var pos int64
	for _, r := range rows {
		from, to := max(pos, offset), min(pos+r.diff, end)
		pos += r.diff
		if to > from {
			if to-from == r.diff {
				out = append(out, r)
			} else {
				out = append(out, rowDiff{row: r.row, diff: to - from})
			}
		}
		if pos >= end {
			break
		}
	}
	return out
}
