package dataflow

import "github.com/arbor-db/arbor/messages"

// Batch evaluation of int filters. A filter whose predicates are all int64
// comparisons (intCompareExpr) over columns, literals and +, -, % of them
// is evaluated a batch at a time: each node fills a slice of values and
// null flags for every row, so a predicate such as auction % 123 = 0 costs
// a few instructions per row and no call. Nothing is evaluated that can
// fail: a row too short for a column, an overflow or a zero divisor makes
// the batch fall back to the row-at-a-time path, which finds the error and
// keeps its semantics (predicates in order, the first error of a row).

// vecScratch hands out buffers for batch evaluation, reused from batch to
// batch; a filter owns one.
type vecScratch struct {
	vals  [][]int64
	nulls [][]bool
	used  int
}

func (s *vecScratch) reset() { s.used = 0 }

// get returns buffers of n values and n null flags.
func (s *vecScratch) get(n int) ([]int64, []bool) {
	if s.used == len(s.vals) {
		s.vals = append(s.vals, nil)
		s.nulls = append(s.nulls, nil)
	}
	i := s.used
	s.used++
	if cap(s.vals[i]) < n {
		s.vals[i] = make([]int64, n)
		s.nulls[i] = make([]bool, n)
	}
	return s.vals[i][:n], s.nulls[i][:n]
}

// vectorizable reports whether every predicate can be evaluated a batch at
// a time.
func vectorizable(preds []*Expr) bool {
	var ok func(s intScalar) bool
	ok = func(s intScalar) bool {
		switch o := s.(type) {
		case *columnExpr, *literalExpr:
			return true
		case *intArithExpr:
			switch o.op {
			case messages.BinaryOp_BINARY_OP_ADD, messages.BinaryOp_BINARY_OP_SUB, messages.BinaryOp_BINARY_OP_MOD:
				return ok(o.li) && ok(o.ri)
			}
		}
		return false
	}
	for _, p := range preds {
		c, isCmp := p.node.(*intCompareExpr)
		if !isCmp || !ok(c.li) || !ok(c.ri) {
			return false
		}
	}
	return len(preds) > 0
}

// vecInt evaluates s over rows into v and null; false when a row would
// fail (or s is not vectorizable), and then v and null mean nothing.
func vecInt(s intScalar, rows []rowDiff, v []int64, null []bool, sc *vecScratch) bool {
	switch o := s.(type) {
	case *columnExpr:
		for i := range rows {
			r := rows[i].row
			if o.idx >= len(r) {
				return false
			}
			d := &r[o.idx]
			v[i], null[i] = d.AsInt64(), d.IsNull()
		}
		return true
	case *literalExpr:
		x, n := o.d.AsInt64(), o.d.IsNull()
		for i := range v {
			v[i], null[i] = x, n
		}
		return true
	case *intArithExpr:
		if !vecInt(o.li, rows, v, null, sc) {
			return false
		}
		b, bn := sc.get(len(rows))
		if !vecInt(o.ri, rows, b, bn, sc) {
			return false
		}
		switch o.op {
		case messages.BinaryOp_BINARY_OP_ADD:
			for i := range v {
				if null[i] = null[i] || bn[i]; null[i] {
					continue
				}
				a, r := v[i], v[i]+b[i]
				if (a^r)&(b[i]^r) < 0 {
					return false
				}
				v[i] = r
			}
		case messages.BinaryOp_BINARY_OP_SUB:
			for i := range v {
				if null[i] = null[i] || bn[i]; null[i] {
					continue
				}
				a, r := v[i], v[i]-b[i]
				if (a^b[i])&(a^r) < 0 {
					return false
				}
				v[i] = r
			}
		case messages.BinaryOp_BINARY_OP_MOD:
			for i := range v {
				if null[i] = null[i] || bn[i]; null[i] {
					continue
				}
				switch b[i] {
				case 0:
					return false
				case -1:
					v[i] = 0
				default:
					v[i] %= b[i]
				}
			}
		default:
			return false
		}
		return true
	}
	return false
}

// vecFilter sets keep[i] for the rows every predicate holds for (false for
// null). It returns false when a row would fail; keep then means nothing.
func vecFilter(preds []*Expr, rows []rowDiff, keep []bool, sc *vecScratch) bool {
	sc.reset()
	for i := range keep {
		keep[i] = true
	}
	for _, p := range preds {
		c := p.node.(*intCompareExpr)
		a, an := sc.get(len(rows))
		b, bn := sc.get(len(rows))
		if !vecInt(c.li, rows, a, an, sc) || !vecInt(c.ri, rows, b, bn, sc) {
			return false
		}
		for i := range keep {
			var t bool
			switch c.op {
			case messages.BinaryOp_BINARY_OP_EQ:
				t = a[i] == b[i]
			case messages.BinaryOp_BINARY_OP_NE:
				t = a[i] != b[i]
			case messages.BinaryOp_BINARY_OP_LT:
				t = a[i] < b[i]
			case messages.BinaryOp_BINARY_OP_LE:
				t = a[i] <= b[i]
			case messages.BinaryOp_BINARY_OP_GT:
				t = a[i] > b[i]
			default:
				t = a[i] >= b[i]
			}
			keep[i] = keep[i] && t && !an[i] && !bn[i]
		}
	}
	return true
}
