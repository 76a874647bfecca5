package runtime_test

import (
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Wire plan constructors for the tests.

func ref(i int) *messages.ColumnRef {
	return &messages.ColumnRef{Ref: &messages.ColumnRef_Index{Index: uint32(i)}}
}

func colE(i int) *messages.Expr { return &messages.Expr{Kind: &messages.Expr_Column{Column: ref(i)}} }

func litE(d dataflow.Datum) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: dataflow.DatumToWire(d)}}}
}

func binE(op messages.BinaryOp, l, r *messages.Expr) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{Op: op, Left: l, Right: r}}}
}

func getP(id timely.GlobalId) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(id)}}}
}

func filterP(in *messages.Plan, preds ...*messages.Expr) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Filter{Filter: &messages.FilterPlan{Input: in, Predicates: preds}}}
}

func reduceP(in *messages.Plan, key []int, aggs ...*messages.Aggregate) *messages.Plan {
	r := &messages.ReducePlan{Input: in}
	for _, k := range key {
		r.GroupKey = append(r.GroupKey, ref(k))
	}
	r.Aggregates = aggs
	return &messages.Plan{Node: &messages.Plan_Reduce{Reduce: r}}
}

func agg(fn messages.AggregateFunc, col int) *messages.Aggregate {
	a := &messages.Aggregate{Func: fn}
	if col >= 0 {
		a.Column = ref(col)
	}
	return a
}

func joinP(l, r *messages.Plan, lcol, rcol int) *messages.Plan {
	eq := &messages.Equivalence{Columns: []*messages.JoinColumn{{Input: 0, Column: ref(lcol)}, {Input: 1, Column: ref(rcol)}}}
	return &messages.Plan{Node: &messages.Plan_Join{Join: &messages.JoinPlan{Inputs: []*messages.Plan{l, r}, Equivalences: []*messages.Equivalence{eq}}}}
}

var (
	opGt  = messages.BinaryOp_BINARY_OP_GT
	opMod = messages.BinaryOp_BINARY_OP_MOD
	opEq  = messages.BinaryOp_BINARY_OP_EQ
	sumW  = messages.AggregateFunc_AGGREGATE_FUNC_SUM
	cntW  = messages.AggregateFunc_AGGREGATE_FUNC_COUNT
)

// The schemas of the test tables.
var (
	orders    = timely.UserId(1) // (id, customer, amount)
	customers = timely.UserId(2) // (id, name)

	ordersSchema = dataflow.Schema{
		{Name: "id", Type: dataflow.TypeInt64},
		{Name: "customer", Type: dataflow.TypeInt64},
		{Name: "amount", Type: dataflow.TypeInt64},
	}
	customersSchema = dataflow.Schema{
		{Name: "id", Type: dataflow.TypeInt64},
		{Name: "name", Type: dataflow.TypeString},
	}
)
