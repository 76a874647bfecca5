package dataflow

import (
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
// contents, or an error message when a multiplicity is negative.
func topKGroup(key Row, order []orderColumn, limit, offset int64, vals []rowDiff) ([]rowDiff, string) {
	for _, v := range vals {
		if v.diff < 0 {
			return nil, "TopK: group " + key.String() + " has a row with a negative multiplicity"
		}
	}
	sorted := append([]rowDiff(nil), vals...)
	sort.SliceStable(sorted, func(i, j int) bool { return compareBy(order, sorted[i].row, sorted[j].row) < 0 })
	var out []rowDiff
	var pos int64 // position of the first copy of the current row
	for _, v := range sorted {
		lo, hi := pos, pos+v.diff // copies occupy [lo, hi)
		pos = hi
		from := max(lo, offset)
		to := hi
		if limit >= 0 && offset+limit < to && offset+limit >= offset {
			to = offset + limit
		}
		if to > from {
			out = append(out, rowDiff{row: v.row, diff: to - from})
		}
		if limit >= 0 && pos >= offset+limit && offset+limit >= offset {
			break
		}
	}
	return out, ""
}
