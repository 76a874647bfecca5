package dataflow

import (
	"errors"
	"math"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// FuzzDecodePlan: any bytes either fail to decode/compile with
// ErrInvalidPlan, or give a plan that runs over sample data without
// panicking. Run with: go test ./dataflow -run '^$' -fuzz FuzzDecodePlan
func FuzzDecodePlan(f *testing.F) {
	gA, gB := getP(srcA), getP(srcB)
	seeds := []*messages.Plan{
		gA,
		filterP(gA, binE(opGt, colE(1), litE(Int64(3)))),
		mapP(gA, binE(opDiv, colE(0), colE(1))),
		reduceP(gA, []int{0}, agg(aggCountW, -1), agg(aggSumW, 1), agg(aggMinW, 2), agg(aggAvgW, 1)),
		joinP([]*messages.Plan{gA, gB}, eqv(0, 0, 1, 0)),
		unionP(projectP(gA, 2), projectP(gB, 1)),
		distinctP(negateP(gA)),
		topKP(gA, []int{0}, []*messages.OrderColumn{orderBy(1, true, false)}, 2, 1),
		arrangeP(gA, 2),
		constP(Schema{{Name: "a", Type: TypeInt64, Nullable: true}}, Row{Null()}, Row{Int64(4)}),
	}
	for _, p := range seeds {
		b, err := proto.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, js := range docExamples {
		var w messages.Plan
		if err := protojson.Unmarshal([]byte(js), &w); err != nil {
			f.Fatal(err)
		}
		b, _ := proto.Marshal(&w)
		f.Add(b)
	}
	f.Add([]byte{0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		plan, err := DecodePlan(b, testSources)
		if err != nil {
			if !errors.Is(err, ErrInvalidPlan) {
				t.Fatalf("error does not wrap ErrInvalidPlan: %v", err)
			}
			return
		}
		if joinWork(plan.root) > 1e5 {
			return // a valid plan, but too large a cross product to run here
		}
		df := NewDataflow(plan, Config{})
		for _, id := range plan.Sources() {
			data := defaultAData
			if id == srcB {
				data = defaultBData
			}
			if err := df.Push(id, data); err != nil {
				t.Fatal(err)
			}
			if err := df.Push(id, []Update{{Row: data[0].Row, Time: 2, Diff: -1}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range plan.Sources() {
			if err := df.AdvanceInput(id, timely.Closed()); err != nil {
				t.Fatal(err)
			}
		}
		for _, tm := range []timely.Timestamp{0, 1, 2} {
			if _, err := df.Peek(PeekSpec{Time: tm}); err != nil && !errors.Is(err, ErrEval) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("peek at %d: %v", tm, err)
			}
		}
	})
}

// joinWork bounds the rows a plan may produce from the sample data: 5 rows
// per source, multiplied through joins.
func joinWork(n *node) float64 {
	switch n.kind {
	case kindGet, kindConstant:
		return 5 + float64(len(n.constRows))
	case kindJoin:
		w := 1.0
		for _, in := range n.inputs {
			w *= joinWork(in)
		}
		return w
	}
	w := 0.0
	for _, in := range n.inputs {
		w += joinWork(in)
	}
	return w
}

// FuzzEvalExpr: any bytes either fail to decode/compile, or give an
// expression whose evaluation returns a value of its declared type (or NULL
// when nullable) or an EvalError, never a panic.
// Run with: go test ./dataflow -run '^$' -fuzz FuzzEvalExpr
func FuzzEvalExpr(f *testing.F) {
	i, n, s := colE(0), colE(1), colE(3)
	seeds := []*messages.Expr{
		binE(opDiv, i, colE(6)),
		binE(opMul, litE(Int64(math.MaxInt64)), i),
		binE(opAnd, unE(messages.UnaryOp_UNARY_OP_IS_NULL, n), binE(opLt, colE(2), i)),
		callE(messages.Func_FUNC_SUBSTRING, s, litE(Int64(-3)), litE(Int64(math.MaxInt64))),
		caseE(coalesceE(n, i), binE(opGe, i, litE(Int64(2))), callE(messages.Func_FUNC_ABS, i)),
		callE(messages.Func_FUNC_UPPER, callE(messages.Func_FUNC_LOWER, s)),
		callE(messages.Func_FUNC_LENGTH, colE(5)),
		unE(messages.UnaryOp_UNARY_OP_NEG, colE(2)),
		binE(opMod, litE(Float64(math.Inf(1))), colE(2)),
		castE(castE(colE(2), TypeString), TypeInt64),
		binE(opSub, castE(i, TypeTimestamp), litE(Int64(math.MinInt64))),
	}
	for _, e := range seeds {
		b, err := proto.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	rows := []Row{
		exprRow,
		{Int64(math.MinInt64), Int64(-1), Float64(math.NaN()), String(""), Bool(true), Bytes(nil), Int64(math.MaxInt64)},
		{Int64(-1), Null(), Float64(math.Inf(-1)), String("\xff\xfe"), Bool(false), Bytes([]byte{0}), Int64(0)},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var w messages.Expr
		if err := proto.Unmarshal(b, &w); err != nil {
			return
		}
		e, err := CompileExpr(&w, exprSchema)
		if err != nil {
			if !errors.Is(err, ErrInvalidPlan) {
				t.Fatalf("compile error does not wrap ErrInvalidPlan: %v", err)
			}
			return
		}
		for _, r := range rows {
			d, err := e.Eval(r)
			if err != nil {
				if !IsEvalError(err) {
					t.Fatalf("%s on %s: error is not an EvalError: %v", e, r, err)
				}
				continue
			}
			if d.IsNull() && !e.Nullable() {
				t.Fatalf("%s on %s: NULL from a non-nullable expression", e, r)
			}
			if !d.IsNull() && d.Type() != e.Type() {
				t.Fatalf("%s on %s: %s from an expression of type %s", e, r, d.Type(), e.Type())
			}
		}
	})
}
