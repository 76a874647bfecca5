package dataflow

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/timely"
)

// A temporal filter shows each row while the read time is in [from, until):
// rows appear and expire with no input at those times, a retraction ends a
// row early, a NULL bound hides a row, and a bound that fails to evaluate is
// an error at the row's time.
func TestTemporalFilter(t *testing.T) {
	src := timely.UserId(1)
	schema := Schema{{Name: "id", Type: TypeInt64}, {Name: "from", Type: TypeTimestamp, Nullable: true}, {Name: "ms", Type: TypeInt64}}
	// valid from `from` for `ms` milliseconds: until = from + ms.
	w := temporalP(getP(src), colE(1), binE(opAdd, colE(1), colE(2)))
	p, err := Compile(w, map[timely.GlobalId]Schema{src: schema})
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(p, Config{})
	ts := func(v timely.Timestamp) Datum { return Timestamp(v) }
	row := func(id int64, from Datum, ms int64) Row { return Row{Int64(id), from, Int64(ms)} }
	r1, r2, r3, r4 := row(1, ts(2), 3), row(2, ts(0), 4), row(3, Null(), 5), row(4, ts(6), 2)
	if err := df.Push(src, []Update{{Row: r1, Time: 0, Diff: 1}, {Row: r2, Time: 1, Diff: 1}, {Row: r3, Time: 1, Diff: 1},
		{Row: r4, Time: 1, Diff: 1}, {Row: r1, Time: 3, Diff: -1}}); err != nil {
		t.Fatal(err)
	}
	if err := df.AdvanceInput(src, timely.At(20)); err != nil {
		t.Fatal(err)
	}
	// r1 valid [2,5) but retracted at 3; r2 arrives at 1, valid [0,4); r3
	// never; r4 valid [6,8).
	want := []string{"[]", "[2]", "[1 2]", "[2]", "[]", "[]", "[4]", "[4]", "[]", "[]"}
	for tm, w := range want {
		rows, err := df.Peek(PeekSpec{Time: timely.Timestamp(tm)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range rows {
			ids = append(ids, r[0].AsInt64())
		}
		if got := fmt.Sprint(ids); got != w {
			t.Errorf("at %d: ids %s, want %s", tm, got, w)
		}
	}
	if st := df.Stats(); st.Pending != 0 {
		t.Errorf("%d updates still scheduled", st.Pending)
	}
	// An until before the start of time is an error at the row's time.
	if err := df.Push(src, []Update{{Row: row(5, ts(1), -5), Time: 20, Diff: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := df.AdvanceInput(src, timely.At(21)); err != nil {
		t.Fatal(err)
	}
	if _, err := df.Peek(PeekSpec{Time: 20}); err == nil {
		t.Errorf("peek at 20: want the bound's evaluation error")
	}
}

func TestTemporalFilterValidation(t *testing.T) {
	src := timely.UserId(1)
	schema := Schema{{Name: "id", Type: TypeInt64}}
	_, err := Compile(temporalP(getP(src), colE(0), nil), map[timely.GlobalId]Schema{src: schema})
	if err == nil || !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), "TemporalFilter valid_from: type mismatch") {
		t.Fatalf("got %v, want a type mismatch naming valid_from", err)
	}
}
