package dataflow

import (
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/arbor-db/arbor/messages"
)

// A filter evaluated a batch at a time keeps the rows, and reports the
// errors, that the row-at-a-time filter does: random int predicates over
// batches that hold nulls, overflowing sums and zero divisors (which make
// the batch fall back), and predicates that cannot be vectorized.
func TestVecFilterMatchesRows(t *testing.T) {
	seed := baseSeed()
	r := rand.New(rand.NewSource(seed))
	schema := Schema{{Name: "a", Type: TypeInt64, Nullable: true}, {Name: "b", Type: TypeInt64, Nullable: true}, {Name: "c", Type: TypeInt64}}
	values := []int64{0, 1, -1, 2, 7, 123, -123, 246, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1}
	arith := []messages.BinaryOp{opAdd, opSub, opMod, opAdd, opSub, opMod, opMul, opDiv}
	compare := []messages.BinaryOp{opEq, opNe, opLt, opLe, opGt, opGe}
	leaf := func() *messages.Expr {
		if r.Intn(3) == 0 {
			return litE(Int64(values[r.Intn(len(values))]))
		}
		return colE(r.Intn(3))
	}
	operand := func() *messages.Expr {
		if r.Intn(2) == 0 {
			return leaf()
		}
		return binE(arith[r.Intn(len(arith))], leaf(), leaf())
	}
	var vectorized, fellBack int
	for iter := 0; iter < 3000; iter++ {
		var preds []*Expr
		for range 1 + r.Intn(3) {
			e, err := CompileExpr(binE(compare[r.Intn(len(compare))], operand(), operand()), schema)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			preds = append(preds, e)
		}
		// Mostly small values, so that most batches evaluate without a
		// fallback; sometimes the edges.
		small := r.Intn(4) != 0
		datum := func(nullable bool) Datum {
			if nullable && r.Intn(8) == 0 {
				return Null()
			}
			if small {
				return Int64(int64(r.Intn(600) - 300))
			}
			return Int64(values[r.Intn(len(values))])
		}
		var rows []rowDiff
		for i := range vecMinRows + r.Intn(40) {
			rows = append(rows, rowDiff{row: Row{datum(true), datum(true), datum(false)}, diff: int64(1 + i%3)})
		}
		in := []batch{{rows: rows, errs: []errDiff{{err: "earlier", diff: 1}}}}
		vec := &filterOp{preds: preds, vec: vectorizable(preds)}
		plain := &filterOp{preds: preds}
		got, want := vec.step(0, in), plain.step(0, in)
		if !slices.EqualFunc(got.rows, want.rows, func(a, b rowDiff) bool { return a.diff == b.diff && a.row.Equal(b.row) }) ||
			!slices.Equal(got.errs, want.errs) {
			t.Fatalf("seed %d, iteration %d, %v: batch %v %v, rows %v %v", seed, iter, preds, got.rows, got.errs, want.rows, want.errs)
		}
		if vec.vec {
			var sc vecScratch
			if vecFilter(preds, rows, make([]bool, len(rows)), &sc) {
				vectorized++
			} else {
				fellBack++
			}
		}
	}
	if vectorized < 500 || fellBack < 50 {
		t.Fatalf("seed %d: %d batches vectorized, %d fell back: the test does not exercise both", seed, vectorized, fellBack)
	}
	t.Logf("seed %d: %d batches vectorized, %d fell back", seed, vectorized, fellBack)
}
