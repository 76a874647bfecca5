package dataflow

import (
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Small constructors for wire plans and expressions, used by the tests.

func ref(i int) *messages.ColumnRef {
	return &messages.ColumnRef{Ref: &messages.ColumnRef_Index{Index: uint32(i)}}
}

func refName(n string) *messages.ColumnRef {
	return &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: n}}
}

func refs(is ...int) []*messages.ColumnRef {
	out := make([]*messages.ColumnRef, len(is))
	for i, c := range is {
		out[i] = ref(c)
	}
	return out
}

func colE(i int) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Column{Column: ref(i)}}
}

func litE(d Datum) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: DatumToWire(d)}}}
}

func nullE(t Type) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: DatumToWire(Null()), Type: TypeToWire(t)}}}
}

func binE(op messages.BinaryOp, l, r *messages.Expr) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{Op: op, Left: l, Right: r}}}
}

func unE(op messages.UnaryOp, a *messages.Expr) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Unary{Unary: &messages.UnaryExpr{Op: op, Arg: a}}}
}

func callE(f messages.Func, args ...*messages.Expr) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Call{Call: &messages.CallExpr{Func: f, Args: args}}}
}

func caseE(els *messages.Expr, condThen ...*messages.Expr) *messages.Expr {
	c := &messages.CaseExpr{Else: els}
	for i := 0; i+1 < len(condThen); i += 2 {
		c.Whens = append(c.Whens, &messages.When{Cond: condThen[i], Then: condThen[i+1]})
	}
	return &messages.Expr{Kind: &messages.Expr_Case{Case: c}}
}

func coalesceE(args ...*messages.Expr) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Coalesce{Coalesce: &messages.CoalesceExpr{Args: args}}}
}

func getP(id timely.GlobalId) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(id)}}}
}

// appendOnlyP is getP of a source declared append-only.
func appendOnlyP(id timely.GlobalId) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(id), AppendOnly: true}}}
}

func constP(schema Schema, rows ...Row) *messages.Plan {
	c := &messages.ConstantPlan{Schema: SchemaToWire(schema)}
	for _, r := range rows {
		c.Rows = append(c.Rows, &messages.ConstantRow{Row: RowToWire(r)})
	}
	return &messages.Plan{Node: &messages.Plan_Constant{Constant: c}}
}

func filterP(in *messages.Plan, preds ...*messages.Expr) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Filter{Filter: &messages.FilterPlan{Input: in, Predicates: preds}}}
}

func mapP(in *messages.Plan, exprs ...*messages.Expr) *messages.Plan {
	m := &messages.MapPlan{Input: in}
	for _, e := range exprs {
		m.Exprs = append(m.Exprs, &messages.NamedExpr{Expr: e})
	}
	return &messages.Plan{Node: &messages.Plan_Map{Map: m}}
}

func projectP(in *messages.Plan, cols ...int) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Project{Project: &messages.ProjectPlan{Input: in, Columns: refs(cols...)}}}
}

func agg(fn messages.AggregateFunc, col int) *messages.Aggregate {
	a := &messages.Aggregate{Func: fn}
	if col >= 0 {
		a.Column = ref(col)
	}
	return a
}

func reduceP(in *messages.Plan, key []int, aggs ...*messages.Aggregate) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Reduce{Reduce: &messages.ReducePlan{Input: in, GroupKey: refs(key...), Aggregates: aggs}}}
}

// eqv builds an equivalence from (input, column) pairs.
func eqv(pairs ...int) *messages.Equivalence {
	e := &messages.Equivalence{}
	for i := 0; i+1 < len(pairs); i += 2 {
		e.Columns = append(e.Columns, &messages.JoinColumn{Input: uint32(pairs[i]), Column: ref(pairs[i+1])})
	}
	return e
}

func joinP(inputs []*messages.Plan, eqs ...*messages.Equivalence) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Join{Join: &messages.JoinPlan{Inputs: inputs, Equivalences: eqs}}}
}

func unionP(inputs ...*messages.Plan) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Union{Union: &messages.UnionPlan{Inputs: inputs}}}
}

func distinctP(in *messages.Plan) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Distinct{Distinct: &messages.DistinctPlan{Input: in}}}
}

func negateP(in *messages.Plan) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Negate{Negate: &messages.NegatePlan{Input: in}}}
}

func orderBy(col int, desc, nullsLast bool) *messages.OrderColumn {
	return &messages.OrderColumn{Column: ref(col), Desc: desc, NullsLast: nullsLast}
}

func topKP(in *messages.Plan, key []int, order []*messages.OrderColumn, limit int64, offset uint64) *messages.Plan {
	t := &messages.TopKPlan{Input: in, GroupKey: refs(key...), Order: order, Offset: offset}
	if limit >= 0 {
		l := uint64(limit)
		t.Limit = &l
	}
	return &messages.Plan{Node: &messages.Plan_TopK{TopK: t}}
}

func temporalP(in *messages.Plan, from, until *messages.Expr) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_TemporalFilter{TemporalFilter: &messages.TemporalFilterPlan{
		Input: in, ValidFrom: from, ValidUntil: until}}}
}

func arrangeP(in *messages.Plan, key ...int) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_ArrangeBy{ArrangeBy: &messages.ArrangeByPlan{Input: in, Key: refs(key...)}}}
}

var (
	opAdd = messages.BinaryOp_BINARY_OP_ADD
	opSub = messages.BinaryOp_BINARY_OP_SUB
	opMul = messages.BinaryOp_BINARY_OP_MUL
	opDiv = messages.BinaryOp_BINARY_OP_DIV
	opMod = messages.BinaryOp_BINARY_OP_MOD
	opEq  = messages.BinaryOp_BINARY_OP_EQ
	opNe  = messages.BinaryOp_BINARY_OP_NE
	opLt  = messages.BinaryOp_BINARY_OP_LT
	opLe  = messages.BinaryOp_BINARY_OP_LE
	opGt  = messages.BinaryOp_BINARY_OP_GT
	opGe  = messages.BinaryOp_BINARY_OP_GE
	opAnd = messages.BinaryOp_BINARY_OP_AND
	opOr  = messages.BinaryOp_BINARY_OP_OR

	aggCountW = messages.AggregateFunc_AGGREGATE_FUNC_COUNT
	aggSumW   = messages.AggregateFunc_AGGREGATE_FUNC_SUM
	aggMinW   = messages.AggregateFunc_AGGREGATE_FUNC_MIN
	aggMaxW   = messages.AggregateFunc_AGGREGATE_FUNC_MAX
	aggAvgW   = messages.AggregateFunc_AGGREGATE_FUNC_AVG
)
