package dataflow

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/arbor-db/arbor/messages"
)

type arithExpr struct {
	op    messages.BinaryOp
	name  string
	l, r  scalar
	float bool
}

func (e *arithExpr) String() string { return fmt.Sprintf("(%s %s %s)", e.l, e.name, e.r) }

// evalStrict evaluates both operands of a strict binary operator, left
// first; null is true when either is null (the result is then null).
func evalStrict(l, r scalar, row Row) (a, b Datum, null bool, err error) {
	if a, err = l.eval(row); err != nil {
		return a, b, false, err
	}
	if b, err = r.eval(row); err != nil {
		return a, b, false, err
	}
	return a, b, a.IsNull() || b.IsNull(), nil
}

func (e *arithExpr) eval(row Row) (Datum, error) {
	a, b, null, err := evalStrict(e.l, e.r, row)
	if err != nil || null {
		return Datum{}, err
	}
	if e.float {
		return floatArith(e.op, e.name, a.AsFloat64(), b.AsFloat64())
	}
	return intArith(e.op, e.name, a.AsInt64(), b.AsInt64())
}

func intArith(op messages.BinaryOp, name string, a, b int64) (Datum, error) {
	overflow := func() (Datum, error) { return Datum{}, evalErrorf("int64 overflow in %d %s %d", a, name, b) }
	switch op {
	case messages.BinaryOp_BINARY_OP_ADD:
		r := a + b
		if (a > 0 && b > 0 && r < 0) || (a < 0 && b < 0 && r >= 0) {
			return overflow()
		}
		return Int64(r), nil
	case messages.BinaryOp_BINARY_OP_SUB:
		r := a - b
		if (a^b)&(a^r) < 0 {
			return overflow()
		}
		return Int64(r), nil
	case messages.BinaryOp_BINARY_OP_MUL:
		if a == 0 || b == 0 {
			return Int64(0), nil
		}
		r := a * b
		if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) || r/b != a {
			return overflow()
		}
		return Int64(r), nil
	case messages.BinaryOp_BINARY_OP_DIV:
		if b == 0 {
			return Datum{}, evalErrorf("division by zero")
		}
		if a == math.MinInt64 && b == -1 {
			return overflow()
		}
		return Int64(a / b), nil
	default: // MOD
		if b == 0 {
			return Datum{}, evalErrorf("division by zero")
		}
		if b == -1 {
			return Int64(0), nil
		}
		return Int64(a % b), nil
	}
}

func floatArith(op messages.BinaryOp, name string, a, b float64) (Datum, error) {
	var r float64
	switch op {
	case messages.BinaryOp_BINARY_OP_ADD:
		r = a + b
	case messages.BinaryOp_BINARY_OP_SUB:
		r = a - b
	case messages.BinaryOp_BINARY_OP_MUL:
		r = a * b
	case messages.BinaryOp_BINARY_OP_DIV:
		if b == 0 {
			return Datum{}, evalErrorf("division by zero")
		}
		r = a / b
	default:
		if b == 0 {
			return Datum{}, evalErrorf("division by zero")
		}
		r = math.Mod(a, b)
	}
	if math.IsInf(r, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) {
		return Datum{}, evalErrorf("float64 overflow in %g %s %g", a, name, b)
	}
	return Float64(r), nil
}

type compareExpr struct {
	op   messages.BinaryOp
	name string
	l, r scalar
}

func (e *compareExpr) String() string { return fmt.Sprintf("(%s %s %s)", e.l, e.name, e.r) }

func (e *compareExpr) eval(row Row) (Datum, error) {
	a, b, null, err := evalStrict(e.l, e.r, row)
	if err != nil || null {
		return Datum{}, err
	}
	var c int
	if a.Type() != b.Type() { // int64 against float64
		c = compareFloat(a.AsFloat64(), b.AsFloat64())
	} else {
		c = a.Compare(b)
	}
	switch e.op {
	case messages.BinaryOp_BINARY_OP_EQ:
		return Bool(c == 0), nil
	case messages.BinaryOp_BINARY_OP_NE:
		return Bool(c != 0), nil
	case messages.BinaryOp_BINARY_OP_LT:
		return Bool(c < 0), nil
	case messages.BinaryOp_BINARY_OP_LE:
		return Bool(c <= 0), nil
	case messages.BinaryOp_BINARY_OP_GT:
		return Bool(c > 0), nil
	default:
		return Bool(c >= 0), nil
	}
}

// logicExpr is AND / OR with SQL's three-valued logic. The left operand is
// evaluated first; when it decides the result the right one is not
// evaluated, so its errors do not surface.
type logicExpr struct {
	and  bool
	l, r scalar
}

func (e *logicExpr) String() string {
	op := "OR"
	if e.and {
		op = "AND"
	}
	return fmt.Sprintf("(%s %s %s)", e.l, op, e.r)
}

func (e *logicExpr) eval(row Row) (Datum, error) {
	a, err := e.l.eval(row)
	if err != nil {
		return Datum{}, err
	}
	// decisive is false for AND, true for OR.
	decisive := !e.and
	if !a.IsNull() && a.AsBool() == decisive {
		return a, nil
	}
	b, err := e.r.eval(row)
	if err != nil {
		return Datum{}, err
	}
	switch {
	case !b.IsNull() && b.AsBool() == decisive:
		return b, nil
	case a.IsNull() || b.IsNull():
		return Null(), nil
	}
	return Bool(!decisive), nil
}

type notExpr struct{ a scalar }

func (e *notExpr) String() string { return fmt.Sprintf("(NOT %s)", e.a) }

func (e *notExpr) eval(row Row) (Datum, error) {
	a, err := e.a.eval(row)
	if err != nil || a.IsNull() {
		return a, err
	}
	return Bool(!a.AsBool()), nil
}

type isNullExpr struct{ a scalar }

func (e *isNullExpr) String() string { return fmt.Sprintf("(%s IS NULL)", e.a) }

func (e *isNullExpr) eval(row Row) (Datum, error) {
	a, err := e.a.eval(row)
	if err != nil {
		return Datum{}, err
	}
	return Bool(a.IsNull()), nil
}

type negExpr struct{ a scalar }

func (e *negExpr) String() string { return fmt.Sprintf("(-%s)", e.a) }

func (e *negExpr) eval(row Row) (Datum, error) {
	a, err := e.a.eval(row)
	if err != nil || a.IsNull() {
		return a, err
	}
	if a.Type() == TypeFloat64 {
		return Float64(-a.AsFloat64()), nil
	}
	if a.AsInt64() == math.MinInt64 {
		return Datum{}, evalErrorf("int64 overflow in -(%d)", a.AsInt64())
	}
	return Int64(-a.AsInt64()), nil
}

type callExpr struct {
	fn   messages.Func
	name string
	args []scalar
}

func (e *callExpr) String() string {
	parts := make([]string, len(e.args))
	for i, a := range e.args {
		parts[i] = a.String()
	}
	return e.name + "(" + strings.Join(parts, ", ") + ")"
}

func (e *callExpr) eval(row Row) (Datum, error) {
	var buf [3]Datum
	args := buf[:0]
	for _, a := range e.args {
		d, err := a.eval(row)
		if err != nil {
			return Datum{}, err
		}
		if d.IsNull() {
			return Null(), nil // every function is strict
		}
		args = append(args, d)
	}
	switch e.fn {
	case messages.Func_FUNC_ABS:
		if args[0].Type() == TypeFloat64 {
			return Float64(math.Abs(args[0].AsFloat64())), nil
		}
		v := args[0].AsInt64()
		if v == math.MinInt64 {
			return Datum{}, evalErrorf("int64 overflow in abs(%d)", v)
		}
		if v < 0 {
			v = -v
		}
		return Int64(v), nil
	case messages.Func_FUNC_LOWER:
		return String(strings.ToLower(args[0].AsString())), nil
	case messages.Func_FUNC_UPPER:
		return String(strings.ToUpper(args[0].AsString())), nil
	case messages.Func_FUNC_LENGTH:
		if args[0].Type() == TypeBytes {
			return Int64(int64(len(args[0].AsString()))), nil
		}
		return Int64(int64(utf8.RuneCountInString(args[0].AsString()))), nil
	default:
		return substring(args)
	}
}

// substring follows SQL: characters are counted from 1; a start before 1
// shortens the count accordingly; a negative count is an error.
func substring(args []Datum) (Datum, error) {
	s := args[0].AsString()
	start := args[1].AsInt64()
	runes := []rune(s)
	n := int64(len(runes))
	end := n + 1 // exclusive, 1-based
	if len(args) == 3 {
		count := args[2].AsInt64()
		if count < 0 {
			return Datum{}, evalErrorf("negative substring length %d", count)
		}
		if start > math.MaxInt64-count {
			end = math.MaxInt64
		} else {
			end = start + count
		}
	}
	lo := max(start, 1)
	hi := min(end, n+1)
	if lo >= hi {
		return String(""), nil
	}
	return String(string(runes[lo-1 : hi-1])), nil
}

type caseExpr struct {
	conds, thens []scalar
	els          scalar
}

func (e *caseExpr) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for i := range e.conds {
		fmt.Fprintf(&b, " WHEN %s THEN %s", e.conds[i], e.thens[i])
	}
	if e.els != nil {
		fmt.Fprintf(&b, " ELSE %s", e.els)
	}
	b.WriteString(" END")
	return b.String()
}

func (e *caseExpr) eval(row Row) (Datum, error) {
	for i, c := range e.conds {
		d, err := c.eval(row)
		if err != nil {
			return Datum{}, err
		}
		if d.AsBool() {
			return e.thens[i].eval(row)
		}
	}
	if e.els == nil {
		return Null(), nil
	}
	return e.els.eval(row)
}

type coalesceExpr struct{ args []scalar }

func (e *coalesceExpr) String() string {
	parts := make([]string, len(e.args))
	for i, a := range e.args {
		parts[i] = a.String()
	}
	return "COALESCE(" + strings.Join(parts, ", ") + ")"
}

func (e *coalesceExpr) eval(row Row) (Datum, error) {
	for _, a := range e.args {
		d, err := a.eval(row)
		if err != nil {
			return Datum{}, err
		}
		if !d.IsNull() {
			return d, nil
		}
	}
	return Null(), nil
}
