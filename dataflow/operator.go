package dataflow

import (
	"github.com/arbor-db/arbor/timely"
)

// batch is the change to a collection at one time: rows with diffs and
// errors with diffs. Operators emit consolidated batches.
type batch struct {
	rows []rowDiff
	errs []errDiff
}

func (b batch) empty() bool { return len(b.rows) == 0 && len(b.errs) == 0 }

// operator is one node of a running dataflow. Times are processed in
// increasing order, and step is called once per time at which any input
// may have changed, after every earlier time. So an operator's state always
// describes its inputs accumulated up to (not including) t when step starts.
//
// step must not modify its input batches' rows slices in place: the batch
// of a source is shared by every Get of that source (a self-join). It owns
// its inputs' error slices, which no one else reads.
type operator interface {
	step(t timely.Timestamp, in []batch) batch
	// compact lets the operator forget state history before t.
	compact(t timely.Timestamp)
}

// instance is a running operator with its inputs.
type instance struct {
	op     operator
	inputs []*instance
	source timely.GlobalId // for Get
	isGet  bool
}

// stateless operators keep no history; compact is a no-op.
type stateless struct{}

func (stateless) compact(timely.Timestamp) {}

type constantOp struct {
	stateless
	rows []rowDiff
	asOf timely.Timestamp
}

func (o *constantOp) step(t timely.Timestamp, _ []batch) batch {
	if t != o.asOf {
		return batch{}
	}
	return batch{rows: append([]rowDiff(nil), o.rows...)}
}

type filterOp struct {
	stateless
	preds []*Expr
}

func (o *filterOp) step(_ timely.Timestamp, in []batch) batch {
	out := batch{errs: in[0].errs}
	for _, r := range in[0].rows {
		keep, err := filterRow(o.preds, r.row)
		if err != nil {
			out.errs = append(out.errs, errDiff{err: err.Error(), diff: r.diff})
		} else if keep {
			out.rows = append(out.rows, r)
		}
	}
	out.errs = consolidateErrs(out.errs)
	return out
}

// filterRow applies predicates to one row: keep, or an evaluation error.
func filterRow(preds []*Expr, row Row) (bool, error) {
	for _, p := range preds {
		d, err := p.Eval(row)
		if err != nil {
			return false, err
		}
		if !d.AsBool() {
			return false, nil
		}
	}
	return true, nil
}

type mapOp struct {
	stateless
	exprs []*Expr
}

// mapRow appends the expressions' values to row, each seeing the columns
// appended before it.
func mapRow(exprs []*Expr, row Row) (Row, error) {
	out := make(Row, len(row), len(row)+len(exprs))
	copy(out, row)
	for _, e := range exprs {
		d, err := e.Eval(out)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (o *mapOp) step(_ timely.Timestamp, in []batch) batch {
	out := batch{errs: in[0].errs, rows: make([]rowDiff, 0, len(in[0].rows))}
	for _, r := range in[0].rows {
		row, err := mapRow(o.exprs, r.row)
		if err != nil {
			out.errs = append(out.errs, errDiff{err: err.Error(), diff: r.diff})
			continue
		}
		out.rows = append(out.rows, rowDiff{row: row, diff: r.diff})
	}
	out.errs = consolidateErrs(out.errs)
	return out
}

type projectOp struct {
	stateless
	cols []int
}

func (o *projectOp) step(_ timely.Timestamp, in []batch) batch {
	out := batch{errs: in[0].errs, rows: make([]rowDiff, len(in[0].rows))}
	for i, r := range in[0].rows {
		out.rows[i] = rowDiff{row: r.row.project(o.cols), diff: r.diff}
	}
	out.rows = consolidateRows(out.rows)
	return out
}

type negateOp struct{ stateless }

// step negates rows; errors are not negated: an error stays an error.
func (negateOp) step(_ timely.Timestamp, in []batch) batch {
	out := batch{errs: in[0].errs, rows: make([]rowDiff, len(in[0].rows))}
	for i, r := range in[0].rows {
		out.rows[i] = rowDiff{row: r.row, diff: -r.diff}
	}
	return out
}

type unionOp struct{ stateless }

func (unionOp) step(_ timely.Timestamp, in []batch) batch {
	if len(in) == 1 {
		return in[0]
	}
	var out batch
	for _, b := range in {
		out.rows = append(out.rows, b.rows...)
		out.errs = append(out.errs, b.errs...)
	}
	out.rows = consolidateRows(out.rows)
	out.errs = consolidateErrs(out.errs)
	return out
}

type passOp struct{ stateless }

func (passOp) step(_ timely.Timestamp, in []batch) batch { return in[0] }

// groupByKey splits a batch's rows by the key columns, keeping the first
// occurrence order of keys. Rows of one key keep their relative order.
func groupByKey(rows []rowDiff, key []int) (keys []Row, groups [][]rowDiff) {
	index := map[uint64][]int{}
	for _, r := range rows {
		h := r.row.hashCols(key)
		found := -1
		for _, g := range index[h] {
			if r.row.equalCols(key, keys[g]) {
				found = g
				break
			}
		}
		if found < 0 {
			found = len(keys)
			keys = append(keys, r.row.project(key))
			groups = append(groups, nil)
			index[h] = append(index[h], found)
		}
		groups[found] = append(groups[found], r)
	}
	return keys, groups
}

// readInto appends the current contents of one key of an internal
// arrangement (every time) to buf, in value order.
func readInto(buf []rowDiff, a *Arrangement, key Row) []rowDiff {
	if tr := a.lookup(key); tr != nil {
		tr.read(timely.MaxTimestamp, func(val Row, mult int64) { buf = append(buf, rowDiff{row: val, diff: mult}) })
	}
	return buf
}
