package dataflow

import (
	"math"
	"math/rand"
	"testing"

	"github.com/arbor-db/arbor/messages"
)

// The unboxed int64 path gives the boxed path's values and errors, on
// random operands with nulls and the int64 extremes (overflow, division by
// zero), for every arithmetic and comparison operator, nested once.
func TestIntExprMatchesBoxed(t *testing.T) {
	seed := int64(1)
	r := rand.New(rand.NewSource(seed))
	schema := Schema{{Name: "a", Type: TypeInt64, Nullable: true}, {Name: "b", Type: TypeInt64, Nullable: true}}
	values := []int64{0, 1, -1, 2, 7, 123, -123, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1}
	datum := func() Datum {
		if r.Intn(6) == 0 {
			return Null()
		}
		return Int64(values[r.Intn(len(values))])
	}
	arith := []messages.BinaryOp{opAdd, opSub, opMul, opDiv, opMod}
	compare := []messages.BinaryOp{opEq, opNe, opLt, opLe, opGt, opGe}
	operand := func() *messages.Expr {
		switch r.Intn(3) {
		case 0:
			return colE(r.Intn(2))
		case 1:
			return litE(Int64(values[r.Intn(len(values))]))
		}
		return binE(arith[r.Intn(len(arith))], colE(r.Intn(2)), colE(r.Intn(2)))
	}
	for i := 0; i < 20000; i++ {
		ops := arith
		if r.Intn(2) == 0 {
			ops = compare
		}
		w := binE(ops[r.Intn(len(ops))], operand(), operand())
		e, err := CompileExpr(w, schema)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		boxed := boxedCopy(e.node)
		if _, ok := e.node.(*intCompareExpr); !ok {
			if _, ok := e.node.(*intArithExpr); !ok {
				t.Fatalf("seed %d: %s does not use the unboxed path (%T)", seed, e, e.node)
			}
		}
		row := Row{datum(), datum()}
		got, gerr := e.Eval(row)
		want, werr := boxed.eval(row)
		if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) ||
			got.Type() != want.Type() || !got.Equal(want) {
			t.Fatalf("seed %d: %s on %s: unboxed %v %v, boxed %v %v", seed, e, row, got, gerr, want, werr)
		}
	}
}

// boxedCopy returns the expression tree with every unboxed node replaced
// by its boxed form.
func boxedCopy(s scalar) scalar {
	switch n := s.(type) {
	case *intArithExpr:
		a := n.arithExpr
		a.l, a.r = boxedCopy(a.l), boxedCopy(a.r)
		return &a
	case *intCompareExpr:
		c := n.compareExpr
		c.l, c.r = boxedCopy(c.l), boxedCopy(c.r)
		return &c
	}
	return s
}
