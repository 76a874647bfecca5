package dataflow

import (
	"errors"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func peekDataflow(t *testing.T, p *messages.Plan) *Dataflow {
	t.Helper()
	plan, err := Compile(p, testSources)
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(plan, Config{DiscardUpdates: true})
	if err := df.Push(srcA, defaultAData); err != nil {
		t.Fatal(err)
	}
	if err := df.AdvanceInput(srcA, timely.At(2)); err != nil {
		t.Fatal(err)
	}
	return df
}

func TestPeekMapFilterProjectFinishing(t *testing.T) {
	df := peekDataflow(t, arrangeP(getP(srcA), 0))
	lim := func(n uint64) *uint64 { return &n }
	tests := []struct {
		name string
		key  Row
		mfp  *messages.MapFilterProject
		fin  *messages.Finishing
		want string
	}{
		{"all rows in row order", nil, nil, nil, `(1, 10, "x") (1, 20, "y") (2, NULL, "z") (2, 5, "x") (3, -1, "y")`},
		{"key lookup", Row{Int64(2)}, nil, nil, `(2, NULL, "z") (2, 5, "x")`},
		{"missing key", Row{Int64(9)}, nil, nil, ``},
		{"filter and project", nil, &messages.MapFilterProject{
			Filter:  []*messages.Expr{binE(opEq, colE(2), litE(String("y")))},
			Project: refs(2, 0),
		}, nil, `("y", 1) ("y", 3)`},
		{"map then order desc with limit and offset", nil, &messages.MapFilterProject{
			Map:     []*messages.NamedExpr{{Name: "twice", Expr: binE(opMul, colE(1), litE(Int64(2)))}},
			Project: refs(3),
		}, &messages.Finishing{OrderBy: []*messages.OrderColumn{orderBy(0, true, true)}, Limit: lim(2), Offset: 1},
			`(20) (10)`},
		{"nulls first ascending", nil, &messages.MapFilterProject{Project: refs(1)},
			&messages.Finishing{OrderBy: []*messages.OrderColumn{orderBy(0, false, false)}, Limit: lim(2)}, `(NULL) (-1)`},
		{"offset past end", nil, nil, &messages.Finishing{Offset: 10}, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mfp, err := CompileMapFilterProject(tt.mfp, df.Schema())
			if err != nil {
				t.Fatal(err)
			}
			fin, err := CompileFinishing(tt.fin, mfp.Schema())
			if err != nil {
				t.Fatal(err)
			}
			rows, err := df.Peek(PeekSpec{Time: 1, Key: tt.key, MFP: mfp, Finishing: fin})
			if err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(rows))
			for i, r := range rows {
				parts[i] = r.String()
			}
			if got := strings.Join(parts, " "); got != tt.want {
				t.Fatalf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestPeekErrors(t *testing.T) {
	df := peekDataflow(t, getP(srcA))
	mfp, err := CompileMapFilterProject(&messages.MapFilterProject{
		Filter: []*messages.Expr{binE(opEq, binE(opDiv, colE(0), binE(opSub, colE(0), litE(Int64(3)))), litE(Int64(0)))},
	}, df.Schema())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := df.Peek(PeekSpec{Time: 1, MFP: mfp}); !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("mfp evaluation error: got %v", err)
	}
	if _, err := CompileMapFilterProject(&messages.MapFilterProject{Filter: []*messages.Expr{colE(0)}}, df.Schema()); !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("non-bool filter: %v", err)
	}
	if _, err := CompileMapFilterProject(&messages.MapFilterProject{Project: refs(7)}, df.Schema()); !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("bad projection: %v", err)
	}
	if _, err := CompileFinishing(&messages.Finishing{OrderBy: []*messages.OrderColumn{orderBy(5, false, false)}}, df.Schema()); !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("bad order column: %v", err)
	}
	// A collection with an error at the time: the peek reports it.
	edf := peekDataflow(t, mapP(getP(srcA), binE(opDiv, colE(0), binE(opSub, colE(0), litE(Int64(3))))))
	if _, err := edf.Peek(PeekSpec{Time: 1}); !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("collection error: got %v", err)
	}
}

func TestArrangementCompaction(t *testing.T) {
	a := NewArrangement()
	k := Row{Int64(1)}
	for tm := timely.Timestamp(0); tm < 100; tm++ {
		a.Update(k, Row{Int64(int64(tm))}, tm, 1)
		if tm > 0 {
			a.Update(k, Row{Int64(int64(tm - 1))}, tm, -1)
		}
	}
	if _, n := a.Len(); n != 199 {
		t.Fatalf("entries before compaction: %d, want 199", n)
	}
	read := func(tm timely.Timestamp) string {
		var parts []string
		if err := a.ReadKey(k, tm, func(v Row, m int64) { parts = append(parts, v.String()) }); err != nil {
			return err.Error()
		}
		return strings.Join(parts, " ")
	}
	if got := read(50); got != "(50)" {
		t.Fatalf("read at 50: %s", got)
	}
	a.Compact(timely.At(99))
	if keys, n := a.Len(); keys != 1 || n != 1 {
		t.Fatalf("after compaction to 99: %d keys %d entries, want 1 and 1", keys, n)
	}
	if got := read(99); got != "(99)" {
		t.Fatalf("read at 99: %s", got)
	}
	if got := read(98); !strings.Contains(got, "time is before the since") {
		t.Fatalf("read at 98 after compaction: %s", got)
	}
	a.Update(k, Row{Int64(99)}, 120, -1)
	a.Compact(timely.At(130))
	if keys, n := a.Len(); keys != 0 || n != 0 {
		t.Fatalf("after retracting everything: %d keys %d entries", keys, n)
	}
	a.Compact(timely.Closed())
	a.Update(k, k, 200, 1)
	if keys, _ := a.Len(); keys != 0 {
		t.Fatal("a closed arrangement must ignore updates")
	}
}

func TestPeekMaxRowsAndHugeMultiplicities(t *testing.T) {
	huge := int64(1) << 40
	w := constP(Schema{{Name: "a", Type: TypeInt64}}, Row{Int64(1)}, Row{Int64(2)})
	w.GetConstant().Rows[0].Diff = &huge
	plan, err := Compile(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(plan, Config{})
	if _, err := df.Peek(PeekSpec{Time: 0}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("peek of 2^40 rows: got %v, want ErrTooLarge", err)
	}
	// Limit and offset cut before expanding copies.
	lim := uint64(2)
	fin, err := CompileFinishing(&messages.Finishing{OrderBy: []*messages.OrderColumn{orderBy(0, true, false)}, Limit: &lim, Offset: 0}, df.Schema())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := df.Peek(PeekSpec{Time: 0, Finishing: fin})
	if err != nil || len(rows) != 2 || rows[0][0].AsInt64() != 2 || rows[1][0].AsInt64() != 1 {
		t.Fatalf("got %v %v, want (2) (1)", rows, err)
	}
	fin, _ = CompileFinishing(&messages.Finishing{Limit: &lim, Offset: uint64(huge) - 1}, df.Schema())
	rows, err = df.Peek(PeekSpec{Time: 0, Finishing: fin})
	if err != nil || len(rows) != 2 || rows[0][0].AsInt64() != 1 || rows[1][0].AsInt64() != 2 {
		t.Fatalf("offset into the copies: got %v %v, want (1) (2)", rows, err)
	}
	if _, err := df.Peek(PeekSpec{Time: 0, MaxRows: 1, Finishing: fin}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("MaxRows 1: got %v", err)
	}
}
