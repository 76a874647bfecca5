package dataflow

import (
	"math"
	"sort"

	"github.com/arbor-db/arbor/timely"
)

// topKOp keeps, per group, the rows at positions [offset, offset+limit) of
// the order (ties broken by the whole row, so the choice is deterministic).
// It arranges its input by the group key and recomputes a group's window
// when the group changes, emitting the difference to the previous window.
type topKOp struct {
	key     []int
	order   []orderColumn
	limit   int64
	offset  int64
	input   *Arrangement            // group key -> input rows
	windows *groupTable[topKWindow] // the window emitted for each group
	buf     []rowDiff               // reused to read a group
}

// topKWindow is the output currently emitted for one group: rows, or an
// error. boundary, when set, is the row whose copies reach position
// offset+limit: an update to a row ordered after it cannot change the
// window.
type topKWindow struct {
	rows     []rowDiff
	err      string
	boundary Row
}

func newTopKOp(n *node) *topKOp {
	return &topKOp{key: n.groupKey, order: n.order, limit: n.limit, offset: n.offset,
		input: NewArrangement(), windows: newGroupTable[topKWindow]()}
}

func (o *topKOp) compact(t timely.Timestamp) { o.input.advanceSince(t) }

func (o *topKOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	out := batch{errs: append([]errDiff(nil), in[0].errs...)}
	for _, kg := range groupByKey(in[0].rows, o.key) {
		k := kg.ref()
		w := o.windows.find(k)
		// The window stays as it is when every update is to a row after
		// the boundary and no multiplicity is or becomes negative.
		unchanged := w != nil && w.state.boundary != nil
		// With no offset, a positive limit and only insertions, the new
		// window is the top of the old window and the inserted rows: a row
		// that was after the old window stays after at least limit rows. So
		// the group need not be read (an empty window means an empty group).
		insertsOnly := o.offset == 0 && o.limit > 0 && (w == nil || w.state.err == "")
		for _, r := range kg.rows {
			before, after := o.input.updateMult(k, r.row, t, r.diff)
			if unchanged && (before < 0 || after < 0 || compareBy(o.order, r.row, w.state.boundary) <= 0) {
				unchanged = false
			}
			insertsOnly = insertsOnly && r.diff > 0
		}
		if unchanged {
			continue
		}
		if insertsOnly {
			o.buf = append(o.buf[:0], kg.rows...)
			if w != nil {
				o.buf = append(o.buf, w.state.rows...)
			}
			o.buf = consolidateRows(o.buf)
		} else {
			o.buf = readInto(o.buf[:0], o.input, k)
		}
		rows, msg, boundary := topKWindowOf(kg.key, o.order, o.limit, o.offset, o.buf)
		if w == nil {
			if len(rows) == 0 && msg == "" {
				continue // no window before, none now
			}
			w = o.windows.add(k)
		}
		if w.state.err != "" {
			out.errs = append(out.errs, errDiff{err: w.state.err, diff: -1})
		}
		for _, r := range w.state.rows {
			out.rows = append(out.rows, rowDiff{row: r.row, diff: -r.diff})
		}
		if msg != "" {
			out.errs = append(out.errs, errDiff{err: msg, diff: 1})
		}
		out.rows = append(out.rows, rows...)
		w.state = topKWindow{rows: rows, err: msg, boundary: boundary}
		if len(rows) == 0 && msg == "" {
			o.windows.remove(w)
		}
	}
	clear(o.buf) // do not keep rows alive
	o.buf = o.buf[:0]
	if cap(o.buf) > 1<<12 {
		o.buf = nil // do not hold on to a huge group's buffer
	}
	out.rows = consolidateRows(out.rows)
	out.errs = consolidateErrs(out.errs)
	return out
}

// topKGroup returns the window of one group given its consolidated
// contents, or an error message when a multiplicity is negative.
func topKGroup(key Row, order []orderColumn, limit, offset int64, vals []rowDiff) ([]rowDiff, string) {
	rows, msg, _ := topKWindowOf(key, order, limit, offset, vals)
	return rows, msg
}

// topKWindowOf is topKGroup that also returns the boundary: the row whose
// copies reach position offset+limit, or nil when there is no limit or the
// group is shorter. With a small window it selects the first offset+limit
// copies with a bounded insertion instead of sorting the whole group.
func topKWindowOf(key Row, order []orderColumn, limit, offset int64, vals []rowDiff) ([]rowDiff, string, Row) {
	for _, v := range vals {
		if v.diff < 0 {
			return nil, "TopK: group " + key.String() + " has a row with a negative multiplicity", nil
		}
	}
	end := int64(-1) // one past the last position kept; -1 for no limit
	if limit >= 0 && offset <= math.MaxInt64-limit {
		end = offset + limit
	}
	var sorted []rowDiff
	if end >= 0 && end < int64(len(vals))/2 {
		sorted = selectFirst(order, end, vals)
	} else {
		sorted = append([]rowDiff(nil), vals...)
		sort.SliceStable(sorted, func(i, j int) bool { return compareBy(order, sorted[i].row, sorted[j].row) < 0 })
	}
	var out []rowDiff
	var pos int64 // position of the first copy of the current row
	for _, v := range sorted {
		lo, hi := pos, pos+v.diff // copies occupy [lo, hi)
		pos = hi
		from, to := max(lo, offset), hi
		if end >= 0 {
			to = min(to, end)
		}
		if to > from {
			out = append(out, rowDiff{row: v.row, diff: to - from})
		}
		if end >= 0 && pos >= end {
			return out, "", v.row
		}
	}
	return out, "", nil
}

// selectFirst returns, in order, the fewest leading rows of vals whose
// copies cover the first n positions.
func selectFirst(order []orderColumn, n int64, vals []rowDiff) []rowDiff {
	var best []rowDiff
	var copies int64
	for _, v := range vals {
		if copies >= n && n > 0 && compareBy(order, v.row, best[len(best)-1].row) >= 0 {
			continue
		}
		if n == 0 {
			break
		}
		i := sort.Search(len(best), func(i int) bool { return compareBy(order, best[i].row, v.row) > 0 })
		best = append(best, rowDiff{})
		copy(best[i+1:], best[i:])
		best[i] = v
		copies += v.diff
		// Drop trailing rows that are not needed to cover n positions.
		for len(best) > 1 && copies-best[len(best)-1].diff >= n {
			copies -= best[len(best)-1].diff
			best = best[:len(best)-1]
		}
	}
	return best
}
