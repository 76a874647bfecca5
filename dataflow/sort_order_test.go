package dataflow

import (
	"cmp"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// randomOrderDatum returns a datum of type typ (or null), drawn from few
// values so that ties, shared string prefixes, -0, NaN and infinities are
// common.
func randomOrderDatum(r *rand.Rand, typ Type) Datum {
	if r.Intn(6) == 0 {
		return Null()
	}
	switch typ {
	case TypeInt64:
		return Int64([]int64{math.MinInt64, -5, -1, 0, 1, 7, math.MaxInt64}[r.Intn(7)])
	case TypeFloat64:
		return Float64([]float64{math.Inf(-1), -2.5, math.Copysign(0, -1), 0, 1e-300, 3, math.Inf(1), math.NaN()}[r.Intn(8)])
	case TypeString:
		return String([]string{"", "a", "a\x00", "abcdefgh", "abcdefghi", "abcdefghj", "b", "\xff"}[r.Intn(8)])
	case TypeBytes:
		return Bytes([]byte([]string{"", "\x00", "\x00\x00", "12345678", "123456789"}[r.Intn(5)]))
	case TypeBool:
		return Bool(r.Intn(2) == 0)
	default:
		return Timestamp(timely.Timestamp([]uint64{0, 1, 1 << 40, math.MaxUint64}[r.Intn(4)]))
	}
}

// sortOrderCase builds random rows with multiplicities, and a random order
// over their columns. With mixed, column 0 holds datums of several types.
func sortOrderCase(r *rand.Rand, mixed bool) ([]rowDiff, []orderColumn) {
	types := []Type{TypeBool, TypeInt64, TypeFloat64, TypeString, TypeBytes, TypeTimestamp}
	arity := 1 + r.Intn(3)
	schema := make([]Type, arity)
	for i := range schema {
		schema[i] = types[r.Intn(len(types))]
	}
	// Rows are distinct, as a peek's are (equal rows summed).
	var rds []rowDiff
	seen := map[string]int{}
	for i, n := 0, r.Intn(300+700*r.Intn(2)); i < n; i++ {
		row := make(Row, arity)
		for c := range row {
			typ := schema[c]
			if mixed && c == 0 {
				typ = types[r.Intn(len(types))]
			}
			row[c] = randomOrderDatum(r, typ)
		}
		diff := 1 + int64(r.Intn(3))
		if j, ok := seen[string(EncodeRowKey(row))]; ok {
			rds[j].diff += diff
			continue
		}
		seen[string(EncodeRowKey(row))] = len(rds)
		rds = append(rds, rowDiff{row: row, diff: diff})
	}
	var order []orderColumn
	for i, n := 0, r.Intn(arity+1); i < n; i++ {
		order = append(order, orderColumn{col: r.Intn(arity), desc: r.Intn(2) == 0, nullsLast: r.Intn(2) == 0})
	}
	if len(order) == 0 {
		order = rowOrderColumns
	}
	return rds, order
}

func sameRowOrder(got, want []rowDiff) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].row.Compare(want[i].row) != 0 {
			return fmt.Errorf("row %d is %s, want %s", i, got[i].row, want[i].row)
		}
	}
	return nil
}

// referenceFinish sorts rows by row, then by the finishing's order with a
// plain stable sort, and cuts them to the window.
func referenceFinish(f *Finishing, rows []Row) []Row {
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, Row.Compare)
	slices.SortStableFunc(rows, func(a, b Row) int { return compareBy(f.order, a, b) })
	rows = rows[min(f.offset, int64(len(rows))):]
	if f.limit >= 0 && f.limit < int64(len(rows)) {
		rows = rows[:f.limit]
	}
	return rows
}

// Sorting with abbreviated keys gives the order compareBy gives, for every
// type, nulls first or last, ascending or descending, and when a column
// holds datums of several types.
func TestSortRowDiffsMatchesCompareBy(t *testing.T) {
	seed := baseSeed()
	for iter := int64(0); iter < 2000; iter++ {
		r := rand.New(rand.NewSource(seed + iter))
		rds, order := sortOrderCase(r, iter%10 == 0)
		want := slices.Clone(rds)
		slices.SortStableFunc(want, func(a, b rowDiff) int { return compareBy(order, a.row, b.row) })
		got := slices.Clone(rds)
		sortRowDiffs(got, order)
		if err := sameRowOrder(got, want); err != nil {
			t.Fatalf("seed %d, order %v: %v (replay with -dataflow.seed=%d)", seed+iter, order, err, seed+iter)
		}
	}
}

// The first k copies chosen by a heap are the rows a full sort puts first:
// the shortest prefix of the sorted rows holding k copies (or all rows).
func TestFirstRowDiffsIsSortedPrefix(t *testing.T) {
	seed := baseSeed()
	for iter := int64(0); iter < 2000; iter++ {
		r := rand.New(rand.NewSource(seed + iter))
		rds, order := sortOrderCase(r, iter%10 == 0)
		k := int64(r.Intn(40))
		want := slices.Clone(rds)
		slices.SortStableFunc(want, func(a, b rowDiff) int { return compareBy(order, a.row, b.row) })
		got := firstRowDiffs(slices.Clone(rds), order, k)
		// A prefix of the sorted rows, at least as long as the shortest
		// one holding k copies; only a full sort may return more.
		n := countPrefix(want, k)
		if len(got) < n || len(got) > n && len(got) != len(want) {
			t.Fatalf("seed %d: %d rows for k=%d, want %d (replay with -dataflow.seed=%d)", seed+iter, len(got), k, n, seed+iter)
		}
		if err := sameRowOrder(got, want[:len(got)]); err != nil {
			t.Fatalf("seed %d, order %v, k %d: %v (replay with -dataflow.seed=%d)", seed+iter, order, k, err, seed+iter)
		}
	}
}

// abbrev orders like Datum.Compare within a type: never the other way
// round, and equal datums abbreviate equally.
func TestAbbrevOrdersLikeCompare(t *testing.T) {
	r := rand.New(rand.NewSource(baseSeed()))
	for _, typ := range []Type{TypeBool, TypeInt64, TypeFloat64, TypeString, TypeBytes, TypeTimestamp} {
		for i := 0; i < 2000; i++ {
			x, y := randomOrderDatum(r, typ), randomOrderDatum(r, typ)
			if x.IsNull() || y.IsNull() {
				continue
			}
			c, ax, ay := x.Compare(y), abbrev(x), abbrev(y)
			if c < 0 && ax > ay || c > 0 && ax < ay || c == 0 && ax != ay {
				t.Fatalf("%s vs %s: Compare %d, abbrev %x vs %x", x, y, c, ax, ay)
			}
		}
	}
}

// A peek whose finishing order is the row order on leading columns reads
// the arrangement in key order and sorts nothing; a peek ordered otherwise
// sorts (with a heap under a limit). Every variant returns what a plain
// stable sort gives on the unordered rows after the map-filter-project,
// through updates between the peeks (new keys merged into the key order,
// retracted ones skipped), for an arrangement keyed by the whole row, by a
// leading column and by another column, and with map-filter-projects that
// keep the columns in place or move them.
func TestPeekOrdersMatchFinishingApply(t *testing.T) {
	seed := baseSeed()
	schema := Schema{{Name: "k", Type: TypeInt64, Nullable: true}, {Name: "v", Type: TypeString}, {Name: "w", Type: TypeFloat64}}
	limit := func(n uint64) *uint64 { return &n }
	fins := []*messages.Finishing{
		{OrderBy: []*messages.OrderColumn{orderBy(0, false, false)}},
		{OrderBy: []*messages.OrderColumn{orderBy(0, false, false), orderBy(1, false, false)}, Limit: limit(5), Offset: 3},
		{OrderBy: []*messages.OrderColumn{orderBy(0, false, false)}, Limit: limit(0)},
		{OrderBy: []*messages.OrderColumn{orderBy(0, true, false)}},
		{OrderBy: []*messages.OrderColumn{orderBy(0, false, true)}, Limit: limit(7)},
		{OrderBy: []*messages.OrderColumn{orderBy(2, true, false)}, Limit: limit(10)},
		{OrderBy: []*messages.OrderColumn{orderBy(1, false, false)}, Offset: 50},
		{Limit: limit(4), Offset: 2},
		nil,
	}
	mfps := []*messages.MapFilterProject{
		nil,
		{Map: []*messages.NamedExpr{{Name: "w2", Expr: binE(messages.BinaryOp_BINARY_OP_MUL, colE(2), litE(Float64(2)))}},
			Filter: []*messages.Expr{binE(messages.BinaryOp_BINARY_OP_GT, colE(2), litE(Float64(-3)))}},
		{Project: refs(2, 0, 1)},
	}
	for pi, wp := range []*messages.Plan{getP(benchA), arrangeP(getP(benchA), 0), arrangeP(getP(benchA), 1)} {
		p, err := Compile(wp, map[timely.GlobalId]Schema{benchA: schema})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewSource(seed + int64(pi)))
		df := NewDataflow(p, Config{DiscardUpdates: true})
		var live []Row
		for step := 0; step < 30; step++ {
			var us []Update
			for i := 0; i < 30; i++ {
				if len(live) > 0 && r.Intn(3) == 0 {
					j := r.Intn(len(live))
					us = append(us, Update{Row: live[j], Time: timely.Timestamp(step), Diff: -1})
					live = slices.Delete(live, j, j+1)
					continue
				}
				k := Int64(int64(r.Intn(50)))
				if r.Intn(8) == 0 {
					k = Null()
				}
				row := Row{k, String(fmt.Sprint("s", r.Intn(5))), Float64(float64(r.Intn(9)) - 4)}
				us = append(us, Update{Row: row, Time: timely.Timestamp(step), Diff: 1})
				live = append(live, row)
			}
			if err := df.Push(benchA, us); err != nil {
				t.Fatal(err)
			}
			if err := df.AdvanceInput(benchA, timely.At(timely.Timestamp(step+1))); err != nil {
				t.Fatal(err)
			}
			at := timely.Timestamp(step)
			all, err := df.Peek(PeekSpec{Time: at, Unordered: true})
			if err != nil {
				t.Fatal(err)
			}
			for mi, wm := range mfps {
				mfp, err := CompileMapFilterProject(wm, schema)
				if err != nil {
					t.Fatal(err)
				}
				// Mapped in the order of the rows they come from: the
				// order a peek without a finishing order keeps.
				all = slices.Clone(all)
				slices.SortFunc(all, Row.Compare)
				var mapped []Row
				for _, row := range all {
					if out, ok, err := mfp.Apply(row); err != nil {
						t.Fatal(err)
					} else if ok {
						mapped = append(mapped, out)
					}
				}
				spec := PeekSpec{Time: at}
				if wm != nil {
					spec.MFP = mfp
				}
				for fi, wf := range fins {
					fin, err := CompileFinishing(wf, mfp.Schema())
					if err != nil {
						t.Fatal(err)
					}
					want := referenceFinish(fin, mapped)
					if len(fin.order) == 0 {
						want = mapped[min(fin.offset, int64(len(mapped))):]
						if fin.limit >= 0 && fin.limit < int64(len(want)) {
							want = want[:fin.limit]
						}
					}
					spec.Finishing = fin
					got, err := df.Peek(spec)
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("seed %d, plan %d, step %d, mfp %d, finishing %d: got %v, want %v", seed, pi, step, mi, fi, got, want)
					}
				}
			}
		}
	}
}

// Consolidate, which sorts each time's updates by abbreviated first
// column, gives what a plain sort by (time, row) and a sum give: for rows
// with nulls, ties in the abbreviation (strings sharing eight bytes), -0
// and NaN, rows of different lengths, and a first column of mixed types.
func TestConsolidateMatchesPlainSort(t *testing.T) {
	seed := baseSeed()
	types := []Type{TypeBool, TypeInt64, TypeFloat64, TypeString, TypeBytes, TypeTimestamp}
	for iter := int64(0); iter < 500; iter++ {
		r := rand.New(rand.NewSource(seed + iter))
		typ := types[r.Intn(len(types))]
		var us []Update
		tm := timely.Timestamp(0)
		for i, n := 0, r.Intn(600); i < n; i++ {
			if r.Intn(200) == 0 {
				tm++
			}
			row := Row{}
			for c, arity := 0, r.Intn(3); c < arity; c++ {
				ct := typ
				if iter%10 == 0 && c == 0 {
					ct = types[r.Intn(len(types))]
				}
				row = append(row, randomOrderDatum(r, ct))
			}
			us = append(us, Update{Row: row, Time: tm, Diff: int64(r.Intn(5) - 2)})
		}
		if iter%7 == 0 && len(us) > 1 {
			us[0].Time = tm + 1 // out of time order: the plain path
		}
		want := slices.Clone(us)
		slices.SortStableFunc(want, func(a, b Update) int {
			if a.Time != b.Time {
				return cmp.Compare(a.Time, b.Time)
			}
			return a.Row.Compare(b.Row)
		})
		var sum []Update
		for _, u := range want {
			if n := len(sum); n > 0 && sum[n-1].Time == u.Time && sum[n-1].Row.Compare(u.Row) == 0 {
				sum[n-1].Diff += u.Diff
				continue
			}
			sum = append(sum, u)
		}
		want = slices.DeleteFunc(sum, func(u Update) bool { return u.Diff == 0 })
		got := Consolidate(slices.Clone(us))
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d updates, want %d (replay with -dataflow.seed=%d)", seed+iter, len(got), len(want), seed+iter)
		}
		for i := range got {
			if got[i].Time != want[i].Time || got[i].Diff != want[i].Diff || got[i].Row.Compare(want[i].Row) != 0 {
				t.Fatalf("seed %d: update %d is %v, want %v (replay with -dataflow.seed=%d)", seed+iter, i, got[i], want[i], seed+iter)
			}
		}
	}
}
