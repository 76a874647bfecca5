package client

import (
	"context"
	"fmt"

	"github.com/arbor-db/arbor/messages"
)

// Result is a peek's answer.
type Result struct {
	Columns []Column
	// Rows in the requested order (row order when none); a row present n
	// times appears n times.
	Rows []Row
	// AsOf is the time read.
	AsOf uint64
}

// PeekOption shapes a peek.
type PeekOption func(*peekSpec) error

type peekSpec struct {
	mfp  *messages.MapFilterProject
	fin  *messages.Finishing
	asOf *uint64
}

// Where keeps the rows whose column equals value (nil: IS NULL). Several
// filters must all hold.
func Where(column string, value any) PeekOption {
	return func(s *peekSpec) error {
		col := &messages.Expr{Kind: &messages.Expr_Column{Column: &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: column}}}}
		if value == nil {
			return Filter(&messages.Expr{Kind: &messages.Expr_Unary{Unary: &messages.UnaryExpr{Op: messages.UnaryOp_UNARY_OP_IS_NULL, Arg: col}}})(s)
		}
		d, err := datumToWire(value)
		if err != nil {
			return fmt.Errorf("%w: where %s: %v", ErrInvalidArgument, column, err)
		}
		lit := &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: d}}}
		return Filter(&messages.Expr{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{Op: messages.BinaryOp_BINARY_OP_EQ, Left: col, Right: lit}}})(s)
	}
}

// Filter keeps the rows for which expr (plan.proto's Expr, over the
// collection's columns) is true.
func Filter(expr *messages.Expr) PeekOption {
	return func(s *peekSpec) error {
		s.mfp.Filter = append(s.mfp.Filter, expr)
		return nil
	}
}

// Columns keeps only the named columns, in that order.
func Columns(names ...string) PeekOption {
	return func(s *peekSpec) error {
		for _, n := range names {
			s.mfp.Project = append(s.mfp.Project, &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: n}})
		}
		return nil
	}
}

// OrderBy orders the result by a column (of the result, after Columns).
// Several OrderBy options order by each in turn.
func OrderBy(column string, desc bool) PeekOption {
	return func(s *peekSpec) error {
		s.fin.OrderBy = append(s.fin.OrderBy, &messages.OrderColumn{Column: &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: column}}, Desc: desc})
		return nil
	}
}

// Limit keeps at most n rows.
func Limit(n uint64) PeekOption {
	return func(s *peekSpec) error {
		s.fin.Limit = &n
		return nil
	}
}

// Offset skips the first n rows.
func Offset(n uint64) PeekOption {
	return func(s *peekSpec) error {
		s.fin.Offset = n
		return nil
	}
}

// AsOf reads the collection at an older time t (a write's timestamp, or a
// previous result's AsOf). A time before the collection's since is
// ErrCompacted. Without AsOf a peek sees every write acknowledged before
// it was sent.
func AsOf(t uint64) PeekOption {
	return func(s *peekSpec) error {
		s.asOf = &t
		return nil
	}
}

// Peek reads a collection (a table in this build) once.
func (c *Client) Peek(ctx context.Context, collection string, opts ...PeekOption) (*Result, error) {
	return c.peek(ctx, collection, nil, opts)
}

// PeekPlan reads a plan once (computed on the default cluster, as a view
// without an index is), with the same options as Peek.
func (c *Client) PeekPlan(ctx context.Context, plan *Plan, opts ...PeekOption) (*Result, error) {
	return c.peek(ctx, "", plan, opts)
}

func (c *Client) peek(ctx context.Context, collection string, plan *Plan, opts []PeekOption) (*Result, error) {
	s := &peekSpec{mfp: &messages.MapFilterProject{}, fin: &messages.Finishing{}}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, fmt.Errorf("peek %q: %w", collection, err)
		}
	}
	resp, err := call[*messages.ClientPeekResponse](ctx, c, "peek", &messages.ClientPeek{
		Collection: collection, Mfp: s.mfp, Finishing: s.fin, AsOf: s.asOf, Plan: plan.toWire()})
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: schemaFromWire(resp.GetSchema()), AsOf: resp.GetAsOf(), Rows: make([]Row, len(resp.GetRows()))}
	for i, r := range resp.GetRows() {
		res.Rows[i] = RowFromWire(r)
	}
	return res, nil
}
