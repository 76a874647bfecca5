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
	input  *Arrangement // group key -> input rows
	output *Arrangement // group key -> rows of the window (or an error as a one-bytes row)
}

func newTopKOp(n *node) *topKOp {
	return &topKOp{key: n.groupKey, order: n.order, limit: n.limit, offset: n.offset,
		input: NewArrangement(), output: NewArrangement()}
}

func (o *topKOp) compact(t timely.Timestamp) {
	o.input.advanceSince(t)
	o.output.advanceSince(t)
}

func (o *topKOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	out := batch{errs: append([]errDiff(nil), in[0].errs...)}
	keys, groups := groupByKey(in[0].rows, o.key)
	for i, key := range keys {
		for _, r := range groups[i] {
			o.input.Update(key, r.row, t, r.diff)
		}
		window, errMsg := topKGroup(key, o.order, o.limit, o.offset, readAll(o.input, key))
		for _, old := range readAll(o.output, key) {
			o.output.Update(key, old.row, t, -old.diff)
			if len(old.row) == 1 && old.row[0].Type() == TypeBytes {
				out.errs = append(out.errs, errDiff{err: old.row[0].AsString(), diff: -old.diff})
			} else {
				out.rows = append(out.rows, rowDiff{row: old.row[1:], diff: -old.diff})
			}
		}
		if errMsg != "" {
			o.output.Update(key, Row{Bytes([]byte(errMsg))}, t, 1)
			out.errs = append(out.errs, errDiff{err: errMsg, diff: 1})
			continue
		}
		for _, w := range window {
			o.output.Update(key, append(Row{Null()}, w.row...), t, w.diff)
			out.rows = append(out.rows, w)
		}
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
