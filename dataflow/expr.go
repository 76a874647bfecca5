package dataflow

import (
	"errors"
	"fmt"
)

// Expr is a scalar expression that has been type checked against an input
// schema. It evaluates one row at a time; Eval never panics on rows that
// match the schema it was compiled against.
type Expr struct {
	node     scalar
	typ      Type
	nullable bool
}

// Type returns the type of the expression's result.
func (e *Expr) Type() Type { return e.typ }

// Nullable reports whether the expression may evaluate to NULL.
func (e *Expr) Nullable() bool { return e.nullable }

// Eval evaluates the expression on row. An evaluation error (division by
// zero, overflow, a negative substring length) is returned as an error whose
// message becomes an entry of the collection's error stream.
func (e *Expr) Eval(row Row) (Datum, error) { return e.node.eval(row) }

// String prints the expression in a SQL-like form.
func (e *Expr) String() string { return e.node.String() }

// scalar is one node of a compiled expression.
type scalar interface {
	eval(row Row) (Datum, error)
	String() string
}

// EvalError is an error raised while evaluating an expression or an
// operator on data (division by zero, overflow, a negative multiplicity).
// It is data, not a bug: it flows through the error stream of the
// collection.
type EvalError struct{ Msg string }

// Error returns the message, as it appears in the error stream.
func (e *EvalError) Error() string { return e.Msg }

func evalErrorf(format string, args ...any) error {
	return &EvalError{Msg: fmt.Sprintf(format, args...)}
}

// IsEvalError reports whether err is (or wraps) an EvalError.
func IsEvalError(err error) bool {
	var e *EvalError
	return errors.As(err, &e)
}

type columnExpr struct {
	idx  int
	name string
}

func (c *columnExpr) eval(row Row) (Datum, error) {
	if c.idx >= len(row) {
		return Datum{}, evalErrorf("row %s has no column #%d", row, c.idx)
	}
	return row[c.idx], nil
}
func (c *columnExpr) String() string {
	if c.name != "" {
		return c.name
	}
	return fmt.Sprintf("#%d", c.idx)
}

type literalExpr struct{ d Datum }

func (l *literalExpr) eval(Row) (Datum, error) { return l.d, nil }
func (l *literalExpr) String() string          { return l.d.String() }
