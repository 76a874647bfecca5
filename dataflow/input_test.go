package dataflow

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/timely"
)

// A batch with one bad row is refused whole, whatever the bad row's
// position and fault; nulls in nullable columns pass Push's fast type check
// by way of the full one.
func TestPushRefusesWholeBatch(t *testing.T) {
	plan, err := Compile(getP(srcA), testSources)
	if err != nil {
		t.Fatal(err)
	}
	good := []Update{
		{Row: rowA(1, Null(), "a"), Time: 1, Diff: 1}, // null in the nullable column
		{Row: rowA(2, Int64(20), "b"), Time: 1, Diff: 1},
	}
	bad := []struct {
		name string
		row  Row
		want string
	}{
		{"wrong type", Row{Int64(3), String("x"), String("c")}, `column "v" (#1) has type int64`},
		{"null in a non-nullable column", Row{Null(), Int64(3), String("c")}, `column "k" (#0) is not nullable`},
		{"short row", Row{Int64(3)}, "has 1 columns, the schema has 3"},
		{"long row", Row{Int64(3), Int64(3), String("c"), Int64(3)}, "has 4 columns, the schema has 3"},
	}
	df := NewDataflow(plan, Config{})
	for _, b := range bad {
		for pos := 0; pos <= len(good); pos++ {
			us := slices.Insert(slices.Clone(good), pos, Update{Row: b.row, Time: 1, Diff: 1})
			err := df.Push(srcA, us)
			if !errors.Is(err, ErrInvalidRow) || !strings.Contains(err.Error(), b.want) {
				t.Fatalf("%s at %d: %v, want ErrInvalidRow with %q", b.name, pos, err, b.want)
			}
		}
	}
	if n := df.Stats().Pending; n != 0 {
		t.Fatalf("%d updates pending after refused pushes", n)
	}
	if err := df.Push(srcA, good); err != nil {
		t.Fatal(err)
	}
	if err := df.AdvanceInput(srcA, timely.At(2)); err != nil {
		t.Fatal(err)
	}
	us, _ := df.TakeOutput()
	if len(us) != 2 {
		t.Fatalf("output %v, want the two good rows", us)
	}
}

// Updates pushed out of time order and a frontier that passes only some of
// them: each time's rows come out at that time, the others wait, and zero
// diffs and times before as_of are handled as in the ordered case.
func TestPushOutOfOrderPartialFrontier(t *testing.T) {
	plan, err := Compile(projectP(getP(srcA), 0), testSources)
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(plan, Config{AsOf: 2})
	push := func(us ...Update) {
		t.Helper()
		if err := df.Push(srcA, us); err != nil {
			t.Fatal(err)
		}
	}
	at := func(k int64, tm timely.Timestamp, diff int64) Update {
		return Update{Row: rowA(k, Null(), "s"), Time: tm, Diff: diff}
	}
	advance := func(to timely.Timestamp) []Update {
		t.Helper()
		if err := df.AdvanceInput(srcA, timely.At(to)); err != nil {
			t.Fatal(err)
		}
		us, _ := df.TakeOutput()
		slices.SortFunc(us, func(a, b Update) int {
			if c := byTime(a, b); c != 0 {
				return c
			}
			return a.Row.Compare(b.Row)
		})
		return us
	}
	push(at(5, 5, 1), at(3, 3, 1), at(1, 1, 1), at(9, 9, 1), at(4, 4, 0), at(4, 4, 2))
	push(at(6, 6, 1), at(2, 2, 1)) // a second push, also out of order
	got := advance(5)              // 1 and 2 are at as_of 2; 3 and 4 are ready; 5, 6, 9 wait
	want := []Update{
		{Row: Row{Int64(1)}, Time: 2, Diff: 1}, {Row: Row{Int64(2)}, Time: 2, Diff: 1},
		{Row: Row{Int64(3)}, Time: 3, Diff: 1}, {Row: Row{Int64(4)}, Time: 4, Diff: 2},
	}
	if !slices.EqualFunc(got, want, updateEqual) {
		t.Fatalf("at 5: %v, want %v", got, want)
	}
	if n := df.Stats().Pending; n != 3 {
		t.Fatalf("%d pending after advancing to 5, want 3", n)
	}
	push(at(7, 7, -1))
	got = advance(10)
	want = []Update{
		{Row: Row{Int64(5)}, Time: 5, Diff: 1}, {Row: Row{Int64(6)}, Time: 6, Diff: 1},
		{Row: Row{Int64(7)}, Time: 7, Diff: -1}, {Row: Row{Int64(9)}, Time: 9, Diff: 1},
	}
	if !slices.EqualFunc(got, want, updateEqual) {
		t.Fatalf("at 10: %v, want %v", got, want)
	}
	if n := df.Stats().Pending; n != 0 {
		t.Fatalf("%d pending after advancing past every time", n)
	}
}

func updateEqual(a, b Update) bool { return a.Time == b.Time && a.Diff == b.Diff && a.Row.Equal(b.Row) }
