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
	key    []int
	order  []orderColumn
	limit  int64
	offset int64
	input  *Arrangement             // group key -> input rows
	groups map[uint64][]*topKWindow // the window emitted for each group
	buf    []rowDiff                // reused to read a group
}

// topKWindow is the output currently emitted for one group: rows, or an
// error.
type topKWindow struct {
	key  Row
	rows []rowDiff
	err  string
}

func newTopKOp(n *node) *topKOp {
	return &topKOp{key: n.groupKey, order: n.order, limit: n.limit, offset: n.offset,
		input: NewArrangement(), groups: map[uint64][]*topKWindow{}}
}

func (o *topKOp) compact(t timely.Timestamp) { o.input.advanceSince(t) }

// window returns the window state of key, creating it when create is set.
func (o *topKOp) window(key Row, h uint64, create bool) *topKWindow {
	for _, w := range o.groups[h] {
		if w.key.Equal(key) {
			return w
		}
	}
	if !create {
		return nil
	}
	w := &topKWindow{key: key}
	o.groups[h] = append(o.groups[h], w)
	return w
}

func (o *topKOp) dropWindow(w *topKWindow, h uint64) {
	list := o.groups[h]
	for i, x := range list {
		if x == w {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(o.groups, h)
	} else {
		o.groups[h] = list
	}
}

func (o *topKOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	out := batch{errs: append([]errDiff(nil), in[0].errs...)}
	keys, groups := groupByKey(in[0].rows, o.key)
	for i, key := range keys {
		for _, r := range groups[i] {
			o.input.Update(key, r.row, t, r.diff)
		}
		o.buf = o.buf[:0]
		if tr := o.input.lookup(key); tr != nil {
			tr.read(timely.MaxTimestamp, func(v Row, m int64) { o.buf = append(o.buf, rowDiff{row: v, diff: m}) })
		}
		rows, msg := topKGroup(key, o.order, o.limit, o.offset, o.buf)
		h := key.Hash()
		w := o.window(key, h, len(rows) > 0 || msg != "")
		if w == nil {
			continue // no window before, none now
		}
		if w.err != "" {
			out.errs = append(out.errs, errDiff{err: w.err, diff: -1})
		}
		for _, r := range w.rows {
			out.rows = append(out.rows, rowDiff{row: r.row, diff: -r.diff})
		}
		if msg != "" {
			out.errs = append(out.errs, errDiff{err: msg, diff: 1})
		}
		out.rows = append(out.rows, rows...)
		w.rows, w.err = rows, msg
		if len(rows) == 0 && msg == "" {
			o.dropWindow(w, h)
		}
	}
	for i := range o.buf {
		o.buf[i] = rowDiff{} // do not keep rows alive
	}
	out.rows = consolidateRows(out.rows)
	out.errs = consolidateErrs(out.errs)
	return out
}

// topKGroup returns the window of one group given its consolidated
// contents, or an error message when a multiplicity is negative. With a
// small window it selects the first offset+limit copies with a bounded
// insertion instead of sorting the whole group.
func topKGroup(key Row, order []orderColumn, limit, offset int64, vals []rowDiff) ([]rowDiff, string) {
	for _, v := range vals {
		if v.diff < 0 {
			return nil, "TopK: group " + key.String() + " has a row with a negative multiplicity"
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
			break
		}
	}
	return out, ""
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
