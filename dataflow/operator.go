package dataflow

import (
	"github.com/arbor-db/arbor/timely"
)

// batch is the change to a collection at one time: rows with diffs and
// errors with diffs. A batch need not be consolidated (a source's batch is
// not, nor is what Filter and Map make of it): every operator applies a
// row's updates one at a time, so a row may appear more than once.
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
	// vec: the predicates can be evaluated a batch at a time (expr_vec.go),
	// with these buffers.
	vec     bool
	scratch vecScratch
	keep    []bool
}

// vecMinRows is the batch size from which a vectorizable filter evaluates
// a batch at a time.
const vecMinRows = 16

func (o *filterOp) step(_ timely.Timestamp, in []batch) batch {
	out := batch{errs: in[0].errs}
	if rows := in[0].rows; o.vec && len(rows) >= vecMinRows {
		if cap(o.keep) < len(rows) {
			o.keep = make([]bool, len(rows))
		}
		keep := o.keep[:len(rows)]
		if vecFilter(o.preds, rows, keep, &o.scratch) {
			for i := range rows {
				if keep[i] {
					out.rows = append(out.rows, rows[i])
				}
			}
			out.errs = consolidateErrs(out.errs)
			return out
		}
	}
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
		if c, ok := p.node.(*intCompareExpr); ok { // no Datum for the answer
			keep, null, err := c.test(row)
			if err != nil {
				return false, err
			}
			if null || !keep {
				return false, nil
			}
			continue
		}
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
	return out
}

// mapProjectOp is a Map followed by a Project, fused so that each row is
// built once: the map's columns are computed into a scratch row and only
// the projected columns are copied out. Every expression is evaluated, so
// errors are those of the Map.
type mapProjectOp struct {
	stateless
	exprs   []*Expr
	cols    []int
	scratch Row
}

func (o *mapProjectOp) step(_ timely.Timestamp, in []batch) batch {
	out := batch{errs: in[0].errs, rows: make([]rowDiff, 0, len(in[0].rows))}
	for _, r := range in[0].rows {
		row := append(o.scratch[:0], r.row...)
		var err error
		for _, e := range o.exprs {
			var d Datum
			if d, err = e.Eval(row); err != nil {
				break
			}
			row = append(row, d)
		}
		o.scratch = row
		if err != nil {
			out.errs = append(out.errs, errDiff{err: err.Error(), diff: r.diff})
			continue
		}
		out.rows = append(out.rows, rowDiff{row: row.project(o.cols), diff: r.diff})
	}
	clear(o.scratch) // do not keep the last row's strings alive
	out.errs = consolidateErrs(out.errs)
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
	out.errs = consolidateErrs(out.errs)
	return out
}

type passOp struct{ stateless }

func (passOp) step(_ timely.Timestamp, in []batch) batch { return in[0] }

// keyGroup is the rows of a batch that share a key, with the key's hash.
type keyGroup struct {
	key  Row
	hash uint64
	rows []rowDiff
}

// ref refers to the group's key, with its hash, so that arrangements and
// group tables need not hash it again.
func (g *keyGroup) ref() keyRef { return keyRef{hash: g.hash, src: g.key, whole: true} }

// groupByKey splits a batch's rows by the key columns, keeping the first
// occurrence order of keys. Rows of one key keep their relative order.
// Without key columns the one group's rows are rows itself, so a caller
// must not modify a group's rows in place. Otherwise it
// allocates per batch, not per group: the groups' rows share one backing
// array and groups with one hash are chained through next.
func groupByKey(rows []rowDiff, key []int) []keyGroup {
	if len(key) == 0 && len(rows) > 0 { // one group: the rows as they are
		return []keyGroup{{key: Row{}, hash: Row{}.Hash(), rows: rows}}
	}
	groups := make([]keyGroup, 0, len(rows)) // at most one per row
	counts := make([]int, 0, len(rows))
	next := make([]int, 0, len(rows)) // the previous group with the same hash, or -1
	of := make([]int, len(rows))      // the group of each row
	index := map[uint64]int{}         // hash -> its last group + 1
	for i, r := range rows {
		h := r.row.hashCols(key)
		found := -1
		for g := index[h] - 1; g >= 0; g = next[g] {
			if r.row.equalCols(key, groups[g].key) {
				found = g
				break
			}
		}
		if found < 0 {
			found = len(groups)
			groups = append(groups, keyGroup{key: r.row.project(key), hash: h})
			counts = append(counts, 0)
			next = append(next, index[h]-1)
			index[h] = found + 1
		}
		of[i] = found
		counts[found]++
	}
	backing := make([]rowDiff, len(rows))
	for g, n := range counts {
		groups[g].rows, backing = backing[:0:n], backing[n:]
	}
	for i, r := range rows {
		groups[of[i]].rows = append(groups[of[i]].rows, r)
	}
	return groups
}

// readInto appends the current contents of one key of an internal
// arrangement (every time) to buf, in value order.
func readInto(buf []rowDiff, a *Arrangement, k keyRef) []rowDiff {
	if tr := a.lookupAt(k); tr != nil {
		tr.read(timely.MaxTimestamp, func(val Row, mult int64) { buf = append(buf, rowDiff{row: val, diff: mult}) })
	}
	return buf
}
