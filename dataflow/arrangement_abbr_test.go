package dataflow

import (
	"math/rand"
	"testing"
)

// rowAbbr orders rows like Row.Compare wherever it tells them apart, across
// types and nulls (a row of one type against a row of another), int64s
// inside and outside the exactly held range, rows of zero to three datums,
// and gives equal rows equal abbreviations: that is what lets a search
// decide on the abbreviation alone when they differ.
func TestRowAbbrOrdersLikeCompare(t *testing.T) {
	seed := baseSeed()
	r := rand.New(rand.NewSource(seed))
	types := []Type{TypeBool, TypeInt64, TypeFloat64, TypeString, TypeBytes, TypeTimestamp}
	datum := func() Datum {
		if r.Intn(3) == 0 { // int64s around the edges of the exact range
			edges := []int64{-1 << 27, 1<<27 - 1, 1 << 27}
			return Int64(edges[r.Intn(len(edges))] + int64(r.Intn(3)-1))
		}
		return randomOrderDatum(r, types[r.Intn(len(types))])
	}
	row := func() Row {
		out := Row{}
		for n := r.Intn(4); n > 0; n-- {
			out = append(out, datum())
		}
		return out
	}
	for i := 0; i < 20000; i++ {
		x, y := row(), row()
		c, ax, ay := x.Compare(y), rowAbbr(x), rowAbbr(y)
		if ax < ay && c >= 0 || ax > ay && c <= 0 || c == 0 && ax != ay {
			t.Fatalf("seed %d: %s vs %s: Compare %d, rowAbbr %x vs %x (replay with -dataflow.seed=%d)", seed, x, y, c, ax, ay, seed)
		}
	}
}
