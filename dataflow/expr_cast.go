package dataflow

import (
	"fmt"
	"math"
	"strconv"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Casts and timestamp arithmetic.

// castAllowed lists the conversions CastExpr may ask for, besides a type
// to itself and any type to string.
var castAllowed = map[[2]Type]bool{
	{TypeInt64, TypeFloat64}:       true,
	{TypeInt64, TypeBool}:          true,
	{TypeInt64, TypeTimestamp}:     true,
	{TypeFloat64, TypeInt64}:       true,
	{TypeBool, TypeInt64}:          true,
	{TypeTimestamp, TypeInt64}:     true,
	{TypeString, TypeInt64}:        true,
	{TypeString, TypeFloat64}:      true,
	{TypeString, TypeBool}:         true,
	{TypeString, TypeTimestamp}:    true,
	{TypeString, TypeBytes}:        true,
	{TypeBytes, TypeString}:        true,
	{TypeBool, TypeString}:         true,
	{TypeInt64, TypeString}:        true,
	{TypeFloat64, TypeString}:      true,
	{TypeTimestamp, TypeString}:    true,
	{TypeString, TypeString}:       true,
	{TypeBool, TypeBool}:           true,
	{TypeInt64, TypeInt64}:         true,
	{TypeFloat64, TypeFloat64}:     true,
	{TypeBytes, TypeBytes}:         true,
	{TypeTimestamp, TypeTimestamp}: true,
}

func compileCast(c *messages.CastExpr, schema Schema) (*Expr, error) {
	a, err := compileExpr(c.GetArg(), schema)
	if err != nil {
		return nil, fmt.Errorf("operand of CAST: %w", err)
	}
	to, err := TypeFromWire(c.GetType())
	if err != nil {
		return nil, fmt.Errorf("%w: CAST: %v", ErrInvalidPlan, err)
	}
	if !castAllowed[[2]Type{a.typ, to}] {
		return nil, invalidf("type mismatch: cannot cast %s to %s", a.typ, to)
	}
	return &Expr{node: &castExpr{a: a.node, from: a.typ, to: to}, typ: to, nullable: a.nullable}, nil
}

type castExpr struct {
	a        scalar
	from, to Type
}

func (e *castExpr) String() string { return fmt.Sprintf("CAST(%s AS %s)", e.a, e.to) }

func (e *castExpr) eval(row Row) (Datum, error) {
	d, err := e.a.eval(row)
	if err != nil || d.IsNull() || e.from == e.to {
		return d, err
	}
	return castDatum(d, e.to)
}

// castDatum converts a non-null datum to type to, as CastExpr documents.
func castDatum(d Datum, to Type) (Datum, error) {
	switch to {
	case TypeString:
		switch d.Type() {
		case TypeBool:
			return String(strconv.FormatBool(d.AsBool())), nil
		case TypeInt64:
			return String(strconv.FormatInt(d.AsInt64(), 10)), nil
		case TypeFloat64:
			return String(strconv.FormatFloat(d.AsFloat64(), 'g', -1, 64)), nil
		case TypeTimestamp:
			return String(strconv.FormatUint(uint64(d.AsTimestamp()), 10)), nil
		default: // string, bytes
			return String(d.AsString()), nil
		}
	case TypeBytes:
		return bytesOf(d.AsString()), nil
	case TypeFloat64:
		if d.Type() == TypeString {
			f, err := strconv.ParseFloat(d.AsString(), 64)
			if err != nil {
				return Datum{}, evalErrorf("invalid float64: %q", d.AsString())
			}
			return Float64(f), nil
		}
		return Float64(d.AsFloat64()), nil
	case TypeBool:
		if d.Type() == TypeString {
			b, err := strconv.ParseBool(d.AsString())
			if err != nil {
				return Datum{}, evalErrorf("invalid bool: %q", d.AsString())
			}
			return Bool(b), nil
		}
		return Bool(d.AsInt64() != 0), nil
	case TypeTimestamp:
		if d.Type() == TypeString {
			u, err := strconv.ParseUint(d.AsString(), 10, 64)
			if err != nil {
				return Datum{}, evalErrorf("invalid timestamp: %q", d.AsString())
			}
			return Timestamp(timely.Timestamp(u)), nil
		}
		if i := d.AsInt64(); i >= 0 {
			return Timestamp(timely.Timestamp(i)), nil
		}
		return Datum{}, evalErrorf("timestamp out of range: %d", d.AsInt64())
	case TypeInt64:
		switch d.Type() {
		case TypeBool:
			if d.AsBool() {
				return Int64(1), nil
			}
			return Int64(0), nil
		case TypeTimestamp:
			if t := uint64(d.AsTimestamp()); t <= math.MaxInt64 {
				return Int64(int64(t)), nil
			}
			return Datum{}, evalErrorf("int64 out of range: timestamp %d", uint64(d.AsTimestamp()))
		case TypeFloat64:
			f := math.Trunc(d.AsFloat64())
			if math.IsNaN(f) || f < -(1<<63) || f >= 1<<63 {
				return Datum{}, evalErrorf("int64 out of range: %g", d.AsFloat64())
			}
			return Int64(int64(f)), nil
		case TypeString:
			i, err := strconv.ParseInt(d.AsString(), 10, 64)
			if err != nil {
				return Datum{}, evalErrorf("invalid int64: %q", d.AsString())
			}
			return Int64(i), nil
		}
	}
	return Datum{}, evalErrorf("cannot cast %s to %s", d.Type(), to) // unreachable after type checking
}

// compileTimestampArith type checks + and - with a timestamp operand:
// timestamp ± int64 (milliseconds) and int64 + timestamp are timestamps,
// timestamp - timestamp is the int64 number of milliseconds between them.
func compileTimestampArith(op messages.BinaryOp, name string, l, r *Expr) (*Expr, error) {
	var typ Type
	switch {
	case op == messages.BinaryOp_BINARY_OP_ADD && ((l.typ == TypeTimestamp && r.typ == TypeInt64) || (l.typ == TypeInt64 && r.typ == TypeTimestamp)):
		typ = TypeTimestamp
	case op == messages.BinaryOp_BINARY_OP_SUB && l.typ == TypeTimestamp && r.typ == TypeInt64:
		typ = TypeTimestamp
	case op == messages.BinaryOp_BINARY_OP_SUB && l.typ == TypeTimestamp && r.typ == TypeTimestamp:
		typ = TypeInt64
	default:
		return nil, invalidf("type mismatch: %s of %s and %s (timestamps take + and - of an int64 number of milliseconds, and - of a timestamp)", name, l.typ, r.typ)
	}
	return &Expr{node: &timestampArithExpr{sub: op == messages.BinaryOp_BINARY_OP_SUB, name: name, l: l.node, r: r.node},
		typ: typ, nullable: l.nullable || r.nullable}, nil
}

type timestampArithExpr struct {
	sub  bool
	name string
	l, r scalar
}

func (e *timestampArithExpr) String() string { return fmt.Sprintf("(%s %s %s)", e.l, e.name, e.r) }

func (e *timestampArithExpr) eval(row Row) (Datum, error) {
	a, b, null, err := evalStrict(e.l, e.r, row)
	if err != nil || null {
		return Datum{}, err
	}
	if a.Type() == TypeTimestamp && b.Type() == TypeTimestamp { // t1 - t2
		x, y := uint64(a.AsTimestamp()), uint64(b.AsTimestamp())
		if x >= y {
			if x-y > math.MaxInt64 {
				return Datum{}, evalErrorf("int64 overflow in %s - %s", a, b)
			}
			return Int64(int64(x - y)), nil
		}
		if y-x > 1<<63 {
			return Datum{}, evalErrorf("int64 overflow in %s - %s", a, b)
		}
		return Int64(-int64(y-x-1) - 1), nil
	}
	t, ms := a, b
	if a.Type() != TypeTimestamp {
		t, ms = b, a
	}
	base, delta := uint64(t.AsTimestamp()), ms.AsInt64()
	if e.sub {
		if delta == math.MinInt64 {
			return Datum{}, evalErrorf("timestamp out of range in %s %s %s", a, e.name, b)
		}
		delta = -delta
	}
	var out uint64
	if delta >= 0 {
		out = base + uint64(delta)
		if out < base {
			return Datum{}, evalErrorf("timestamp out of range in %s %s %s", a, e.name, b)
		}
	} else {
		if uint64(-delta) > base {
			return Datum{}, evalErrorf("timestamp out of range in %s %s %s", a, e.name, b)
		}
		out = base - uint64(-delta)
	}
	return Timestamp(timely.Timestamp(out)), nil
}
