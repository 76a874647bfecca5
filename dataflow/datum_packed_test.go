package dataflow

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// A datum is two words, so a five-column row is 80 bytes.
func TestDatumIsTwoWords(t *testing.T) {
	if n := unsafe.Sizeof(Datum{}); n != 16 {
		t.Fatalf("a Datum is %d bytes, want 16", n)
	}
}

// Every kind of value keeps its type and value through the packed
// representation; the edge cases are the empty string and bytes (tagged,
// with no bytes), which must differ from null and from each other.
func TestDatumPackedRoundTrip(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	for _, tt := range []struct {
		d    Datum
		typ  Type
		text string
	}{
		{Null(), 0, "NULL"},
		{Bool(false), TypeBool, "false"},
		{Bool(true), TypeBool, "true"},
		{Int64(0), TypeInt64, "0"},
		{Int64(math.MinInt64), TypeInt64, "-9223372036854775808"},
		{Float64(-0.5), TypeFloat64, "-0.5"},
		{Timestamp(math.MaxUint64), TypeTimestamp, "ts:18446744073709551615"},
		{String(""), TypeString, `""`},
		{String("a"), TypeString, `"a"`},
		{Bytes(nil), TypeBytes, `\x`},
		{Bytes([]byte{0, 1}), TypeBytes, `\x0001`},
		{String(long), TypeString, ""},
	} {
		if tt.d.Type() != tt.typ || tt.d.IsNull() != (tt.typ == 0) {
			t.Errorf("%s: type %s null=%v, want %s", tt.d, tt.d.Type(), tt.d.IsNull(), tt.typ)
		}
		if tt.text != "" && tt.d.String() != tt.text {
			t.Errorf("prints %s, want %s", tt.d, tt.text)
		}
		if back, err := DatumFromWire(DatumToWire(tt.d)); err != nil || !back.Equal(tt.d) || back.Type() != tt.typ {
			t.Errorf("%s: wire round trip gave %s, %v", tt.d, back, err)
		}
	}
	if got := String(long).AsString(); got != long {
		t.Fatalf("a 1 MiB string came back with %d bytes", len(got))
	}
	if Int64(7).AsString() != "" || String("7").AsInt64() != 0 || Timestamp(7).AsInt64() != 0 || Int64(7).AsTimestamp() != 0 {
		t.Fatal("an accessor of another type must return its zero value")
	}
	if Bytes([]byte("ab")).AsString() != "ab" || string(String("ab").AsBytes()) != "ab" {
		t.Fatal("string and bytes accessors must read each other's bytes")
	}
	// The distinct values that share bits or bytes stay distinct.
	distinct := []Datum{Null(), Bool(false), Int64(0), Float64(0), Timestamp(0), String(""), Bytes(nil), String("a"), Bytes([]byte("a"))}
	for i, a := range distinct {
		for j, b := range distinct {
			if a.Equal(b) != (i == j) || (a.Compare(b) == 0) != (i == j) {
				t.Errorf("%s vs %s: Equal %v Compare %d", a, b, a.Equal(b), a.Compare(b))
			}
		}
	}
}

// An int64 carries no pointer (the collector skips it) except
// math.MinInt64, whose biased word would be null's; both order like their
// values, among themselves and after null, in Datum.Compare and in
// Row.Compare's inline path.
func TestDatumInt64Encoding(t *testing.T) {
	ints := []int64{math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64}
	for _, v := range ints {
		d := Int64(v)
		if (d.p == nil) != (v != math.MinInt64) {
			t.Errorf("Int64(%d) has pointer %p", v, d.p)
		}
		if d.IsNull() || d.Type() != TypeInt64 || !d.isInt() || d.AsInt64() != v || d.word() != uint64(v) || d.AsFloat64() != float64(v) {
			t.Errorf("Int64(%d): null %v type %s value %d", v, d.IsNull(), d.Type(), d.AsInt64())
		}
	}
	ordered := []Datum{Null()}
	for _, v := range ints {
		ordered = append(ordered, Int64(v))
	}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s vs %s: Compare %d, want %d", a, b, got, want)
			}
			if got := (Row{a, Int64(5)}).Compare(Row{b, Int64(4)}); (want != 0 && got != want) || (want == 0 && got != 1) {
				t.Errorf("rows (%s, 5) vs (%s, 4): Compare %d", a, b, got)
			}
			if (Row{a}).Hash() == (Row{b}).Hash() != (i == j) {
				t.Errorf("%s and %s: hashes equal %v", a, b, i == j)
			}
		}
	}
}

// Two copies of one text are different pointers but equal datums, with
// equal hashes, in every comparison rows use.
func TestDatumEqualStringsAtDifferentAddresses(t *testing.T) {
	a := String(strings.Repeat("ab", 3))
	b := String(string([]byte("ababab")))
	if a.p == b.p {
		t.Fatal("the test needs two copies of the text")
	}
	if !a.Equal(b) || a.Compare(b) != 0 {
		t.Fatalf("%s and %s are not equal", a, b)
	}
	ra, rb := Row{Int64(1), a}, Row{Int64(1), b}
	if !ra.Equal(rb) || ra.Compare(rb) != 0 || ra.Hash() != rb.Hash() || !ra.equalCols([]int{1}, Row{b}) {
		t.Fatalf("rows %s and %s: Equal %v Compare %d hashes %x %x", ra, rb, ra.Equal(rb), ra.Compare(rb), ra.Hash(), rb.Hash())
	}
	if (Row{String("ababa")}).Equal(Row{a}) || (Row{Bytes([]byte("ababab"))}).Equal(Row{a}) {
		t.Fatal("a shorter string or bytes of the same text is equal")
	}
	// Floats: -0 and 0 have different bits but are equal.
	if !(Row{Float64(math.Copysign(0, -1))}).Equal(Row{Float64(0)}) || !(Row{Float64(math.NaN())}).Equal(Row{Float64(math.NaN())}) {
		t.Fatal("-0 must equal 0 and NaN itself")
	}
}

// Push's batch check refuses a batch whole when any row has a datum of
// another type in any column, whatever the kind of mismatch (another tag,
// a string where a tag belongs, a tag or bytes where a string belongs) and
// wherever the row is, and names the row; and it refuses a batch with an
// update before the frontier even when a row is also bad.
func TestPushBatchCheckKinds(t *testing.T) {
	all := Schema{
		{Name: "b", Type: TypeBool}, {Name: "i", Type: TypeInt64}, {Name: "f", Type: TypeFloat64},
		{Name: "s", Type: TypeString}, {Name: "y", Type: TypeBytes}, {Name: "t", Type: TypeTimestamp, Nullable: true},
	}
	src := timely.UserId(40)
	plan, err := Compile(getP(src), map[timely.GlobalId]Schema{src: all})
	if err != nil {
		t.Fatal(err)
	}
	good := func(i int64) Row {
		return Row{Bool(true), Int64(i), Float64(1.5), String("s"), Bytes([]byte("y")), Timestamp(9)}
	}
	with := func(col int, d Datum) Row { r := good(99); r[col] = d; return r }
	bad := []struct {
		name string
		row  Row
		want string
	}{
		{"int in a bool column", with(0, Int64(1)), `column "b" (#0) has type bool`},
		{"timestamp in an int column", with(1, Timestamp(1)), `column "i" (#1) has type int64`},
		{"string in an int column", with(1, String("1")), `column "i" (#1) has type int64`},
		{"int in a float column", with(2, Int64(1)), `column "f" (#2) has type float64`},
		{"bytes in a string column", with(3, Bytes([]byte("s"))), `column "s" (#3) has type string`},
		{"empty bytes in a string column", with(3, Bytes(nil)), `column "s" (#3) has type string`},
		{"int in a string column", with(3, Int64(1)), `column "s" (#3) has type string`},
		{"string in a bytes column", with(4, String("y")), `column "y" (#4) has type bytes`},
		{"null in a non-nullable string column", with(3, Null()), `column "s" (#3) is not nullable`},
		{"null in a non-nullable int column", with(1, Null()), `column "i" (#1) is not nullable`},
		{"int in a nullable timestamp column", with(5, Int64(9)), `column "t" (#5) has type timestamp`},
		{"short row", good(99)[:5], "has 5 columns, the schema has 6"},
	}
	df := NewDataflow(plan, Config{})
	for _, b := range bad {
		for _, pos := range []int{0, 1, 99, 199} {
			us := make([]Update, 200)
			for i := range us {
				us[i] = Update{Row: good(int64(i)), Time: 1, Diff: 1}
			}
			us[pos].Row = b.row
			err := df.Push(src, us)
			if !errors.Is(err, ErrInvalidRow) || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), fmt.Sprintf("update %d ", pos)) {
				t.Fatalf("%s at %d: %v, want ErrInvalidRow naming update %d with %q", b.name, pos, err, pos, b.want)
			}
		}
	}
	if n := df.Stats().Pending; n != 0 {
		t.Fatalf("%d updates pending after refused pushes", n)
	}
	// Valid variants pass: empty string and bytes, a null where nullable.
	ok := []Update{
		{Row: with(1, Int64(math.MinInt64)), Time: 1, Diff: 1},
		{Row: with(1, Int64(0)), Time: 1, Diff: 1},
		{Row: with(3, String("")), Time: 1, Diff: 1},
		{Row: with(4, Bytes(nil)), Time: 1, Diff: 1},
		{Row: with(5, Null()), Time: 1, Diff: 1},
	}
	if err := df.Push(src, ok); err != nil {
		t.Fatal(err)
	}
	if err := df.AdvanceInput(src, timely.At(2)); err != nil {
		t.Fatal(err)
	}
	// A time before the frontier refuses the batch, also next to a bad row.
	late := []Update{{Row: good(1), Time: 2, Diff: 1}, {Row: with(1, Null()), Time: 2, Diff: 1}, {Row: good(2), Time: 1, Diff: 1}}
	if err := df.Push(src, late); !errors.Is(err, ErrNotAdmitted) || !strings.Contains(err.Error(), "update 2 ") {
		t.Fatalf("late update: %v, want ErrNotAdmitted naming update 2", err)
	}
	if n := df.Stats().Pending; n != 0 {
		t.Fatalf("%d updates pending after a refused push", n)
	}
	out, _ := df.TakeOutput()
	if len(out) != len(ok) {
		t.Fatalf("output %v, want the %d valid rows", out, len(ok))
	}
	if err := df.Push(src, nil); err != nil {
		t.Fatalf("an empty batch: %v", err)
	}
}

// The monotonic TopK without a group key compares insertions with its
// window's bound unboxed; ties at the bound, nulls in the order column,
// both directions, nulls last, offsets and multiplicities must give what
// Evaluate gives, after every batch.
func TestMonoTopKBoundMatchesEvaluate(t *testing.T) {
	seed := baseSeed() // -dataflow.seed=N or DATAFLOW_SEED=N replays
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	for iter := 0; iter < 200; iter++ {
		desc, nullsLast := r.Intn(2) == 0, r.Intn(2) == 0
		limit, offset := int64(1+r.Intn(4)), uint64(r.Intn(3))
		w := topKP(appendOnlyP(srcA), nil, []*messages.OrderColumn{orderBy(1, desc, nullsLast)}, limit, offset)
		plan, err := Compile(w, testSources)
		if err != nil {
			t.Fatal(err)
		}
		df := NewDataflow(plan, Config{DiscardUpdates: true})
		var all []Update
		for tm := timely.Timestamp(0); tm < 8; tm++ {
			var us []Update
			for n := r.Intn(30); n > 0; n-- {
				v := Int64(int64(r.Intn(6)) - 2) // small values: many ties at the bound
				switch r.Intn(10) {
				case 0:
					v = Null()
				case 1:
					v = Int64(math.MinInt64) // the one int64 with a pointer
				}
				us = append(us, Update{Row: rowA(int64(r.Intn(4)), v, string(rune('a'+r.Intn(3)))), Time: tm, Diff: int64(1 + r.Intn(2))})
			}
			if err := df.Push(srcA, us); err != nil {
				t.Fatal(err)
			}
			if err := df.AdvanceInput(srcA, timely.At(tm+1)); err != nil {
				t.Fatal(err)
			}
			all = append(all, us...)
			want, err := Evaluate(plan, map[timely.GlobalId][]Update{srcA: all})
			if err != nil {
				t.Fatal(err)
			}
			got, err := df.Peek(PeekSpec{Time: tm})
			if err != nil {
				t.Fatal(err)
			}
			var wantRows []Row
			for i, row := range want.Rows {
				for range want.Diffs[i] {
					wantRows = append(wantRows, row)
				}
			}
			if !slices.EqualFunc(got, wantRows, Row.Equal) {
				t.Fatalf("seed %d iter %d (desc %v nulls last %v limit %d offset %d) at %d: got %v, want %v",
					seed, iter, desc, nullsLast, limit, offset, tm, got, wantRows)
			}
		}
	}
}
