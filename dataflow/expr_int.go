package dataflow

import (
	"github.com/arbor-db/arbor/messages"
)

// Unboxed int64 evaluation. A comparison or an arithmetic operation whose
// operands are int64 columns, int64 literals or such operations evaluates
// them as int64 values with a null flag instead of Datums: no Datum is
// built for an operand, and a predicate such as auction % 123 = 0 costs a
// few instructions per row. Results and errors are those of the boxed
// path (compareExpr, arithExpr), operands evaluated left first.

// intScalar is an int64 expression that can give its value unboxed.
type intScalar interface {
	scalar
	evalInt(row Row) (v int64, null bool, err error)
}

func (c *columnExpr) evalInt(row Row) (int64, bool, error) {
	if c.idx >= len(row) {
		return 0, false, evalErrorf("row %s has no column #%d", row, c.idx)
	}
	d := row[c.idx]
	return d.AsInt64(), d.IsNull(), nil
}

func (l *literalExpr) evalInt(Row) (int64, bool, error) { return l.d.AsInt64(), l.d.IsNull(), nil }

// intOperands returns the operands as intScalars when both are int64
// expressions that can be evaluated unboxed.
func intOperands(l, r *Expr) (intScalar, intScalar, bool) {
	if l.typ != TypeInt64 || r.typ != TypeInt64 {
		return nil, nil, false
	}
	li, lok := l.node.(intScalar)
	ri, rok := r.node.(intScalar)
	return li, ri, lok && rok
}

// evalInts evaluates two int operands, left first; null when either is.
func evalInts(l, r intScalar, row Row) (a, b int64, null bool, err error) {
	a, an, err := evalInt(l, row)
	if err != nil {
		return 0, 0, false, err
	}
	b, bn, err := evalInt(r, row)
	if err != nil {
		return 0, 0, false, err
	}
	return a, b, an || bn, nil
}

// evalInt evaluates one int operand. Columns and literals, the common
// leaves, are read here directly instead of through an interface call.
func evalInt(s intScalar, row Row) (int64, bool, error) {
	switch o := s.(type) {
	case *columnExpr:
		if o.idx >= len(row) {
			return o.evalInt(row) // the error
		}
		d := &row[o.idx]
		return d.AsInt64(), d.IsNull(), nil
	case *literalExpr:
		return o.d.AsInt64(), o.d.IsNull(), nil
	}
	return s.evalInt(row)
}

// intArithExpr is arithExpr over unboxed int64 operands.
type intArithExpr struct {
	arithExpr
	li, ri intScalar
}

func (e *intArithExpr) evalInt(row Row) (int64, bool, error) {
	a, b, null, err := evalInts(e.li, e.ri, row)
	if err != nil || null {
		return 0, null, err
	}
	// The cases that cannot fail, inline; the others (and the errors) by
	// way of intArith, which the boxed path shares.
	switch e.op {
	case messages.BinaryOp_BINARY_OP_ADD:
		if r := a + b; (a^r)&(b^r) >= 0 { // no overflow: r has a's or b's sign
			return r, false, nil
		}
	case messages.BinaryOp_BINARY_OP_SUB:
		if r := a - b; (a^b)&(a^r) >= 0 {
			return r, false, nil
		}
	case messages.BinaryOp_BINARY_OP_MOD:
		if b != 0 && b != -1 {
			return a % b, false, nil
		}
	}
	d, err := intArith(e.op, e.name, a, b)
	return d.AsInt64(), false, err
}

func (e *intArithExpr) eval(row Row) (Datum, error) {
	v, null, err := e.evalInt(row)
	if err != nil || null {
		return Datum{}, err
	}
	return Int64(v), nil
}

// intCompareExpr is compareExpr over unboxed int64 operands.
type intCompareExpr struct {
	compareExpr
	li, ri intScalar
}

func (e *intCompareExpr) eval(row Row) (Datum, error) {
	ok, null, err := e.test(row)
	if err != nil || null {
		return Datum{}, err
	}
	return Bool(ok), nil
}

// test evaluates the comparison without building a Datum: its truth, or
// null, or the error. Filters call it directly.
func (e *intCompareExpr) test(row Row) (ok, null bool, err error) {
	a, b, null, err := evalInts(e.li, e.ri, row)
	if err != nil || null {
		return false, null, err
	}
	switch e.op {
	case messages.BinaryOp_BINARY_OP_EQ:
		return a == b, false, nil
	case messages.BinaryOp_BINARY_OP_NE:
		return a != b, false, nil
	case messages.BinaryOp_BINARY_OP_LT:
		return a < b, false, nil
	case messages.BinaryOp_BINARY_OP_LE:
		return a <= b, false, nil
	case messages.BinaryOp_BINARY_OP_GT:
		return a > b, false, nil
	default:
		return a >= b, false, nil
	}
}
