package dataflow

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/arbor-db/arbor/timely"
)

// updateRows leaves an arrangement exactly as the same updates applied one
// by one would: keyed by the whole row, by a column, and by no column;
// with batches shorter and longer than a touch group, retractions that
// remove keys, and a table that grows in the middle of a group.
func TestUpdateRowsMatchesUpdate(t *testing.T) {
	seed := baseSeed()
	keyings := []struct {
		name  string
		cols  []int
		whole bool
	}{{"whole-row", nil, true}, {"column-1", []int{1}, false}, {"no-column", []int{}, false}}
	for _, k := range keyings {
		for iter := int64(0); iter < 20; iter++ {
			s := seed + iter
			if err := updateRowsRun(s, k.cols, k.whole); err != nil {
				t.Fatalf("%s, seed %d: %v (replay with -dataflow.seed=%d)", k.name, s, err, s)
			}
		}
	}
}

func updateRowsRun(seed int64, cols []int, whole bool) error {
	r := rand.New(rand.NewSource(seed))
	batched, single := NewArrangement(), NewArrangement()
	batched.oneValue, single.oneValue = whole, whole
	for step := 0; step < 30; step++ {
		t := timely.Timestamp(step)
		rows := make([]rowDiff, r.Intn(3*touchGroup))
		for i := range rows {
			rows[i] = rowDiff{row: Row{Int64(int64(r.Intn(40))), Int64(int64(r.Intn(5)))}, diff: int64(r.Intn(5) - 2)}
		}
		batched.updateRows(rows, t, cols, whole)
		for _, rd := range rows {
			k := wholeKey(rd.row)
			if !whole {
				k = colsKey(rd.row, cols)
			}
			single.updateAt(k, rd.row, t, rd.diff)
		}
		if r.Intn(3) == 0 {
			batched.Compact(timely.At(t))
			single.Compact(timely.At(t))
		}
		if err := sameContents(batched, single, t); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	return nil
}

// sameContents compares two arrangements' sizes and contents at t.
func sameContents(a, b *Arrangement, t timely.Timestamp) error {
	ak, ae := a.Len()
	bk, be := b.Len()
	if ak != bk || ae != be {
		return fmt.Errorf("len (%d keys, %d entries), want (%d, %d)", ak, ae, bk, be)
	}
	dump := func(x *Arrangement) ([]string, error) {
		var out []string
		err := x.Read(t, func(key, val Row, mult int64) {
			out = append(out, fmt.Sprintf("%s %s %d", key, val, mult))
		})
		slices.Sort(out)
		return out, err
	}
	got, err1 := dump(a)
	want, err2 := dump(b)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("read: %v, %v", err1, err2)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("contents\n%v\nwant\n%v", got, want)
	}
	return nil
}

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
