package dataflow

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Which collections the analysis calls monotonic.
func TestMarkMonotonic(t *testing.T) {
	a, b := appendOnlyP(srcA), appendOnlyP(srcB)
	byK := []*messages.OrderColumn{orderBy(0, false, false)}
	one := constP(Schema{{Name: "x", Type: TypeInt64}}, Row{Int64(1)})
	for _, tc := range []struct {
		name string
		plan *messages.Plan
		want bool
		// nonNegative is the expected node.nonNegative
		nonNegative bool
	}{
		{"Get", getP(srcA), false, false},
		{"append-only Get", a, true, false},
		{"Filter Map Project", projectP(mapP(filterP(a, binE(opGt, colE(0), litE(Int64(0)))), colE(0)), 3), true, false},
		{"Join of append-only inputs", joinP([]*messages.Plan{a, b}, eqv(0, 0, 1, 0)), true, false},
		{"Join with one ordinary input", joinP([]*messages.Plan{a, getP(srcB)}, eqv(0, 0, 1, 0)), false, false},
		{"Union", unionP(projectP(a, 0), projectP(b, 0)), true, false},
		{"Union with a Negate", unionP(projectP(a, 0), negateP(projectP(b, 0))), false, false},
		{"Constant", one, true, true},
		{"Constant with a retraction", &messages.Plan{Node: &messages.Plan_Constant{Constant: &messages.ConstantPlan{
			Schema: SchemaToWire(Schema{{Name: "x", Type: TypeInt64}}),
			Rows:   []*messages.ConstantRow{{Row: RowToWire(Row{Int64(1)}), Diff: ptr(int64(-1))}}}}}, false, false},
		{"TemporalFilter from", temporalP(a, castE(colE(0), TypeTimestamp), nil), true, false},
		{"TemporalFilter until", temporalP(a, nil, castE(colE(0), TypeTimestamp)), false, false},
		{"Reduce", reduceP(a, []int{0}, agg(aggMaxW, 1)), false, true},
		{"TopK", topKP(a, nil, byK, 1, 0), false, true},
		{"Distinct", distinctP(a), false, true},
		{"ArrangeBy", arrangeP(a, 0), true, false},
		{"Join of a Reduce and a Distinct", joinP([]*messages.Plan{reduceP(getP(srcA), []int{0}), distinctP(getP(srcB))},
			eqv(0, 0, 1, 0)), false, true},
		{"Union of a Reduce and a Negate", unionP(reduceP(getP(srcA), []int{0}),
			negateP(reduceP(getP(srcA), []int{0}))), false, false},
		{"Union of a Reduce and an append-only Get", unionP(reduceP(getP(srcA), []int{0}), projectP(a, 0)), false, false},
	} {
		p, err := Compile(tc.plan, testSources)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.root.monotonic != tc.want || p.root.nonNegative != tc.nonNegative {
			t.Errorf("%s: monotonic %v, non-negative %v, want %v and %v\n%s", tc.name,
				p.root.monotonic, p.root.nonNegative, tc.want, tc.nonNegative, p)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Every operator with a monotonic path, fed a retraction of an
// append-only input: the results stand before it, and from its time on a
// peek fails with the operator's error, also after more insertions.
func TestRetractionOfAppendOnlyInput(t *testing.T) {
	a, b := appendOnlyP(srcA), appendOnlyP(srcB)
	byV := []*messages.OrderColumn{orderBy(1, true, false)}
	for _, tc := range []struct {
		name, op string
		plan     *messages.Plan
		mono     func(*instance) bool
	}{
		{"TopK", "TopK", topKP(a, []int{0}, byV, 1, 0),
			func(i *instance) bool { _, ok := i.op.(*monoTopKOp); return ok }},
		{"TopK over a Map", "TopK", topKP(mapP(a, binE(opAdd, colE(1), litE(Int64(1)))), nil, byV, 2, 1),
			func(i *instance) bool { o, ok := i.op.(*monoTopKOp); return ok && o.exprs != nil }},
		{"Reduce min and max", "Reduce", reduceP(a, []int{0}, agg(aggMinW, 1), agg(aggMaxW, 2)),
			func(i *instance) bool { o, ok := i.op.(*reduceOp); return ok && o.monotonic }},
		{"Reduce count and sum", "Reduce", reduceP(a, []int{0}, agg(aggCountW, -1), agg(aggSumW, 1)),
			func(i *instance) bool { o, ok := i.op.(*accumReduceOp); return ok && o.monotonic }},
		{"Join", "Join", joinP([]*messages.Plan{a, b}, eqv(0, 0, 1, 0)),
			func(i *instance) bool { o, ok := i.op.(*joinOp); return ok && o.stages[0].leftApp != nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Compile(tc.plan, testSources)
			if err != nil {
				t.Fatal(err)
			}
			df := NewDataflow(plan, Config{})
			if !tc.mono(df.root) {
				t.Fatalf("the plan does not run the monotonic path:\n%s", plan)
			}
			step := func(tm timely.Timestamp, a, b []Update) {
				t.Helper()
				for _, id := range plan.Sources() {
					us := a
					if id == srcB {
						us = b
					}
					if err := df.Push(id, us); err != nil {
						t.Fatal(err)
					}
				}
				for _, id := range plan.Sources() {
					if err := df.AdvanceInput(id, timely.At(tm+1)); err != nil {
						t.Fatal(err)
					}
				}
			}
			at := func(tm timely.Timestamp, us ...Update) []Update {
				for i := range us {
					us[i].Time = tm
				}
				return us
			}
			step(1, defaultAData, defaultBData)
			// An insertion retracted at the same time is no retraction.
			x := rowA(1, iv(99), "x")
			step(2, at(2, Update{Row: x, Diff: 1}, Update{Row: x, Diff: -1}), nil)
			contents := map[timely.GlobalId][]Update{srcA: defaultAData, srcB: defaultBData}
			for id := range contents {
				if !slices.Contains(plan.Sources(), id) {
					delete(contents, id)
				}
			}
			c, err := EvaluateAt(plan, contents, 2)
			if err != nil || len(c.Errors) > 0 {
				t.Fatal(err, c.Errors)
			}
			var want []Row // with multiplicities expanded, as a peek returns them
			for i, r := range c.Rows {
				for range c.Diffs[i] {
					want = append(want, r)
				}
			}
			if got, err := df.Peek(PeekSpec{Time: 2}); err != nil || !rowsMatch(got, want) {
				t.Fatalf("at 2: got %v %v, want %v", got, err, want)
			}
			step(3, at(3, Update{Row: rowA(1, iv(10), "x"), Diff: -1}), nil)
			step(4, at(4, ins(rowA(7, iv(1), "n"))), at(4, ins(rowB(iv(7), "seven"))))
			for _, tm := range []timely.Timestamp{3, 4} {
				_, err := df.Peek(PeekSpec{Time: tm})
				// The row is followed by the mapped columns, if any.
				if !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), tc.op+": the input is append-only but received a retraction of (1, 10, \"x\"") {
					t.Fatalf("at %d: got %v, want the retraction error", tm, err)
				}
			}
			if got, err := df.Peek(PeekSpec{Time: 1}); err != nil || !rowsMatch(got, want) {
				t.Fatalf("at 1: got %v %v, want %v", got, err, want)
			}
		})
	}
}

// rowsMatch compares two lists of rows as multisets.
func rowsMatch(a, b []Row) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, Row.Compare)
	slices.SortFunc(b, Row.Compare)
	return slices.EqualFunc(a, b, Row.Equal)
}
