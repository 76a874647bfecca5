package dataflow

import "github.com/arbor-db/arbor/timely"

// joinOp is the equi-join of n inputs, run as a left-deep chain of binary
// joins: stage k joins the result of inputs 0..k-1 with input k on the
// stage's key. Every stage arranges both its sides by the key.
type joinOp struct {
	spec   *joinSpec
	stages []*binaryJoin
	fin    *joinFinish // a Filter and Project fused into the join, or nil
}

// joinFinish is a Filter and/or Project that follows a join, applied to
// each joined row before it is built: the pair is concatenated into a
// scratch row, the predicates evaluated on it, and only a kept row is
// copied out (projected, when cols is set). It saves building every joined
// row twice, or at all when the filter drops it.
type joinFinish struct {
	preds   []*Expr
	project bool // keep only cols
	cols    []int
	scratch Row
	errs    []errDiff
}

// add appends the join of l and r with diff to out, or records the error
// a predicate fails with.
func (f *joinFinish) add(out []rowDiff, l, r Row, diff int64) []rowDiff {
	if f == nil {
		return append(out, rowDiff{row: concat(l, r), diff: diff})
	}
	row := append(append(f.scratch[:0], l...), r...)
	f.scratch = row
	keep, err := filterRow(f.preds, row)
	switch {
	case err != nil:
		f.errs = append(f.errs, errDiff{err: err.Error(), diff: diff})
		return out
	case !keep:
		return out
	case f.project:
		return append(out, rowDiff{row: row.project(f.cols), diff: diff})
	}
	return append(out, rowDiff{row: append(Row(nil), row...), diff: diff})
}

// binaryJoin is one stage of a join.
type binaryJoin struct {
	leftKey, rightKey []int
	left, right       *Arrangement
}

func newJoinOp(spec *joinSpec) *joinOp {
	o := &joinOp{spec: spec}
	for _, st := range spec.steps {
		o.stages = append(o.stages, &binaryJoin{leftKey: st.prefixKey, rightKey: st.inputKey,
			left: NewArrangement(), right: NewArrangement()})
	}
	return o
}

func (o *joinOp) compact(t timely.Timestamp) {
	for _, s := range o.stages {
		s.left.advanceSince(t)
		s.right.advanceSince(t)
	}
}

// joinFilter drops rows of input i whose constrained columns are null or
// unequal.
func (o *joinOp) joinFilter(i int, rows []rowDiff) []rowDiff {
	pairs := o.spec.filters[i]
	if len(pairs) == 0 {
		return rows
	}
	out := make([]rowDiff, 0, len(rows))
	for _, r := range rows {
		if pairsHold(pairs, r.row) {
			out = append(out, r)
		}
	}
	return out
}

func pairsHold(pairs [][2]int, row Row) bool {
	for _, p := range pairs {
		a, b := row[p[0]], row[p[1]]
		if a.IsNull() || b.IsNull() || !a.Equal(b) {
			return false
		}
	}
	return true
}

func (o *joinOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	var out batch
	for _, b := range in {
		out.errs = append(out.errs, b.errs...)
	}
	acc := o.joinFilter(0, in[0].rows)
	for k, st := range o.stages {
		var fin *joinFinish
		if k == len(o.stages)-1 {
			fin = o.fin
		}
		acc = st.step(t, acc, o.joinFilter(k+1, in[k+1].rows), fin)
	}
	out.rows = acc // not consolidated: see batch
	if o.fin != nil {
		out.errs = append(out.errs, o.fin.errs...)
		o.fin.errs = o.fin.errs[:0]
		clear(o.fin.scratch) // do not keep the last row's strings alive
	}
	out.errs = consolidateErrs(out.errs)
	return out
}

// hasNull reports whether a key column of row is null (a null never joins).
func hasNull(row Row, cols []int) bool {
	for _, c := range cols {
		if row[c].IsNull() {
			return true
		}
	}
	return false
}

// step returns the change of left ⋈ right given the changes dl and dr at t:
// dl ⋈ right(before t) + left(through t) ⋈ dr.
// fin, when not nil, filters and projects each joined row.
func (s *binaryJoin) step(t timely.Timestamp, dl, dr []rowDiff, fin *joinFinish) []rowDiff {
	var out []rowDiff
	for _, l := range dl {
		if hasNull(l.row, s.leftKey) {
			continue
		}
		k := colsKey(l.row, s.leftKey)
		if tr := s.right.lookupAt(k); tr != nil {
			tr.read(timely.MaxTimestamp, func(r Row, m int64) {
				out = fin.add(out, l.row, r, l.diff*m)
			})
		}
		s.left.updateAt(k, l.row, t, l.diff)
	}
	for _, r := range dr {
		if hasNull(r.row, s.rightKey) {
			continue
		}
		k := colsKey(r.row, s.rightKey)
		if tr := s.left.lookupAt(k); tr != nil {
			tr.read(timely.MaxTimestamp, func(l Row, m int64) {
				out = fin.add(out, l, r.row, m*r.diff)
			})
		}
		s.right.updateAt(k, r.row, t, r.diff)
	}
	return out
}
