package dataflow

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

var (
	srcA = timely.UserId(1)
	srcB = timely.UserId(2)
	// A: (k int64, v int64 null, s string)
	schemaA = Schema{{Name: "k", Type: TypeInt64}, {Name: "v", Type: TypeInt64, Nullable: true}, {Name: "s", Type: TypeString}}
	// B: (k int64 null, w string)
	schemaB      = Schema{{Name: "k", Type: TypeInt64, Nullable: true}, {Name: "w", Type: TypeString}}
	testSources  = map[timely.GlobalId]Schema{srcA: schemaA, srcB: schemaB}
	rowA         = func(k int64, v Datum, s string) Row { return Row{Int64(k), v, String(s)} }
	rowB         = func(k Datum, w string) Row { return Row{k, String(w)} }
	ins          = func(r Row) Update { return Update{Row: r, Time: 1, Diff: 1} }
	iv           = func(v int64) Datum { return Int64(v) }
	defaultAData = []Update{
		ins(rowA(1, iv(10), "x")), ins(rowA(1, iv(20), "y")), ins(rowA(2, Null(), "z")),
		ins(rowA(2, iv(5), "x")), ins(rowA(3, iv(-1), "y")),
	}
	defaultBData = []Update{
		ins(rowB(iv(1), "one")), ins(rowB(iv(2), "two")), ins(rowB(iv(2), "deux")), ins(rowB(Null(), "none")),
	}
)

// runPlan compiles p, feeds A and B at time 1 then retractions at time 2,
// and returns the peeked output at times 1 and 2 as sorted strings (or the
// peek error).
func runPlan(t *testing.T, p *messages.Plan, a, b []Update, retract ...Update) (at1, at2 string) {
	t.Helper()
	plan, err := Compile(p, testSources)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	df := NewDataflow(plan, Config{})
	for _, id := range plan.Sources() {
		data := a
		if id == srcB {
			data = b
		}
		if err := df.Push(id, data); err != nil {
			t.Fatal(err)
		}
	}
	var extra []Update
	for _, u := range retract {
		u.Time = 2
		extra = append(extra, u)
	}
	if len(extra) > 0 {
		if err := df.Push(srcA, extra); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range plan.Sources() {
		if err := df.AdvanceInput(id, timely.At(3)); err != nil {
			t.Fatal(err)
		}
	}
	show := func(tm timely.Timestamp) string {
		rows, err := df.Peek(PeekSpec{Time: tm})
		if err != nil {
			return "error: " + err.Error()
		}
		parts := make([]string, len(rows))
		for i, r := range rows {
			parts[i] = r.String()
		}
		sort.Strings(parts)
		return strings.Join(parts, " ")
	}
	return show(1), show(2)
}

func TestOperators(t *testing.T) {
	gA, gB := getP(srcA), getP(srcB)
	del := func(r Row) Update { return Update{Row: r, Diff: -1} }
	tests := []struct {
		name     string
		plan     *messages.Plan
		retract  []Update
		at1, at2 string
	}{
		{"get", projectP(gA, 0), []Update{del(rowA(1, iv(10), "x"))},
			"(1) (1) (2) (2) (3)", "(1) (2) (2) (3)"},
		{"constant", constP(Schema{{Name: "a", Type: TypeInt64}}, Row{Int64(5)}, Row{Int64(6)}), nil,
			"(5) (6)", "(5) (6)"},
		{"filter drops null and false", filterP(gA, binE(opGt, colE(1), litE(Int64(0)))), nil,
			`(1, 10, "x") (1, 20, "y") (2, 5, "x")`, `(1, 10, "x") (1, 20, "y") (2, 5, "x")`},
		{"filter error then retracted", filterP(gA, binE(opNe, binE(opDiv, litE(Int64(1)), binE(opSub, colE(1), litE(Int64(5)))), litE(Int64(7)))),
			[]Update{del(rowA(2, iv(5), "x"))}, "error: dataflow: evaluation error: division by zero",
			`(1, 10, "x") (1, 20, "y") (3, -1, "y")`},
		{"map", projectP(mapP(gA, binE(opMul, colE(1), litE(Int64(2)))), 3), []Update{del(rowA(2, Null(), "z"))},
			"(-2) (10) (20) (40) (NULL)", "(-2) (10) (20) (40)"},
		{"map division by zero is an error", mapP(gA, binE(opDiv, colE(0), binE(opSub, colE(0), litE(Int64(3))))),
			[]Update{del(rowA(3, iv(-1), "y"))},
			"error: dataflow: evaluation error: division by zero",
			`(1, 10, "x", 0) (1, 20, "y", 0) (2, 5, "x", -2) (2, NULL, "z", -2)`},
		{"project reorders and repeats", projectP(filterP(gA, binE(opEq, colE(0), litE(Int64(3)))), 2, 0, 0), nil,
			`("y", 3, 3)`, `("y", 3, 3)`},
		{"reduce count sum min max avg", reduceP(gA, []int{0}, agg(aggCountW, -1), agg(aggCountW, 1), agg(aggSumW, 1),
			agg(aggMinW, 2), agg(aggMaxW, 1), agg(aggAvgW, 1)), []Update{del(rowA(1, iv(10), "x"))},
			`(1, 2, 2, 30, "x", 20, 15) (2, 2, 1, 5, "x", 5, 5) (3, 1, 1, -1, "y", -1, -1)`,
			`(1, 1, 1, 20, "y", 20, 20) (2, 2, 1, 5, "x", 5, 5) (3, 1, 1, -1, "y", -1, -1)`},
		{"reduce all-null sum is null", reduceP(filterP(gA, binE(opEq, colE(0), litE(Int64(2)))), []int{0}, agg(aggSumW, 1), agg(aggMinW, 1)),
			[]Update{del(rowA(2, iv(5), "x"))}, "(2, 5, 5)", "(2, NULL, NULL)"},
		{"reduce group disappears", reduceP(gA, []int{0}, agg(aggCountW, -1)), []Update{del(rowA(3, iv(-1), "y"))},
			"(1, 2) (2, 2) (3, 1)", "(1, 2) (2, 2)"},
		{"reduce global", reduceP(gA, nil, agg(aggCountW, -1), agg(aggSumW, 0)), nil, "(5, 9)", "(5, 9)"},
		{"reduce negative multiplicity is an error", reduceP(negateP(gA), nil, agg(aggCountW, -1)), nil,
			"error: dataflow: evaluation error: Reduce: group () has a row with a negative multiplicity", "error: dataflow: evaluation error: Reduce: group () has a row with a negative multiplicity"},
		{"join two inputs on key, nulls never match", joinP([]*messages.Plan{projectP(gA, 0, 2), gB}, eqv(0, 0, 1, 0)),
			[]Update{del(rowA(2, iv(5), "x"))},
			`(1, "x", 1, "one") (1, "y", 1, "one") (2, "x", 2, "deux") (2, "x", 2, "two") (2, "z", 2, "deux") (2, "z", 2, "two")`,
			`(1, "x", 1, "one") (1, "y", 1, "one") (2, "z", 2, "deux") (2, "z", 2, "two")`},
		{"join three inputs", projectP(joinP([]*messages.Plan{projectP(gA, 0), gB, projectP(gA, 0, 2)}, eqv(0, 0, 1, 0, 2, 0)), 0, 2, 4),
			nil,
			`(1, "one", "x") (1, "one", "x") (1, "one", "y") (1, "one", "y") (3, "", "")`[:0] +
				`(1, "one", "x") (1, "one", "x") (1, "one", "y") (1, "one", "y") (2, "deux", "x") (2, "deux", "x") (2, "deux", "z") (2, "deux", "z") (2, "two", "x") (2, "two", "x") (2, "two", "z") (2, "two", "z")`,
			`(1, "one", "x") (1, "one", "x") (1, "one", "y") (1, "one", "y") (2, "deux", "x") (2, "deux", "x") (2, "deux", "z") (2, "deux", "z") (2, "two", "x") (2, "two", "x") (2, "two", "z") (2, "two", "z")`},
		{"cross join", reduceP(joinP([]*messages.Plan{gA, gB}), nil, agg(aggCountW, -1)), nil, "(20)", "(20)"},
		{"join equivalence within one input", joinP([]*messages.Plan{projectP(gA, 0, 0), projectP(gA, 0)}, eqv(0, 0, 0, 1), eqv(0, 1, 1, 0)),
			nil, "(1, 1, 1) (1, 1, 1) (1, 1, 1) (1, 1, 1) (2, 2, 2) (2, 2, 2) (2, 2, 2) (2, 2, 2) (3, 3, 3)", "(1, 1, 1) (1, 1, 1) (1, 1, 1) (1, 1, 1) (2, 2, 2) (2, 2, 2) (2, 2, 2) (2, 2, 2) (3, 3, 3)"},
		{"union", unionP(projectP(gA, 2), projectP(gB, 1)), []Update{del(rowA(1, iv(10), "x"))},
			`("deux") ("none") ("one") ("two") ("x") ("x") ("y") ("y") ("z")`,
			`("deux") ("none") ("one") ("two") ("x") ("y") ("y") ("z")`},
		{"distinct", distinctP(projectP(gA, 2)), []Update{del(rowA(1, iv(10), "x"))},
			`("x") ("y") ("z")`, `("x") ("y") ("z")`},
		{"distinct keeps one NULL", distinctP(projectP(gA, 1)), []Update{del(rowA(2, Null(), "z"))},
			"(-1) (10) (20) (5) (NULL)", "(-1) (10) (20) (5)"},
		{"reduce sum overflow is an error", reduceP(mapP(gA, binE(opMul, colE(0), litE(Int64(1<<61)))), nil, agg(aggSumW, 3)),
			[]Update{del(rowA(2, iv(5), "x")), del(rowA(2, Null(), "z")), del(rowA(3, iv(-1), "y"))},
			"error: dataflow: evaluation error: Reduce: group (): int64 overflow in sum", "(4611686018427387904)"},
		{"map overflow is an error", mapP(gA, binE(opMul, colE(0), litE(Int64(1<<62)))), nil,
			"error: dataflow: evaluation error: int64 overflow in 2 * 4611686018427387904",
			"error: dataflow: evaluation error: int64 overflow in 2 * 4611686018427387904"},
		{"distinct drops last copy", distinctP(projectP(gA, 2)), []Update{del(rowA(1, iv(10), "x")), del(rowA(2, iv(5), "x"))},
			`("x") ("y") ("z")`, `("y") ("z")`},
		{"negate then union cancels", unionP(gA, negateP(filterP(gA, binE(opEq, colE(2), litE(String("x")))))), nil,
			`(1, 20, "y") (2, NULL, "z") (3, -1, "y")`, `(1, 20, "y") (2, NULL, "z") (3, -1, "y")`},
		{"negate alone reports negative multiplicity", negateP(gA), nil,
			"error: dataflow: evaluation error: peek at 1: row (1, 10, \"x\") has a negative multiplicity -1",
			"error: dataflow: evaluation error: peek at 2: row (1, 10, \"x\") has a negative multiplicity -1"},
		{"topk per group", topKP(gA, []int{0}, []*messages.OrderColumn{orderBy(1, true, true)}, 1, 0),
			[]Update{del(rowA(1, iv(20), "y"))},
			`(1, 20, "y") (2, 5, "x") (3, -1, "y")`, `(1, 10, "x") (2, 5, "x") (3, -1, "y")`},
		{"topk nulls first with offset", topKP(gA, nil, []*messages.OrderColumn{orderBy(1, false, false)}, 2, 1), nil,
			`(2, 5, "x") (3, -1, "y")`, `(2, 5, "x") (3, -1, "y")`},
		{"topk no limit", topKP(gA, nil, []*messages.OrderColumn{orderBy(1, false, true)}, -1, 3), nil,
			`(1, 20, "y") (2, NULL, "z")`, `(1, 20, "y") (2, NULL, "z")`},
		{"topk limit 0", topKP(gA, nil, nil, 0, 0), nil, "", ""},
		{"arrange by", arrangeP(projectP(gA, 0), 0), nil, "(1) (1) (2) (2) (3)", "(1) (1) (2) (2) (3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at1, at2 := runPlan(t, tt.plan, defaultAData, defaultBData, tt.retract...)
			if at1 != tt.at1 {
				t.Errorf("at time 1:\n got %s\nwant %s", at1, tt.at1)
			}
			if at2 != tt.at2 {
				t.Errorf("at time 2:\n got %s\nwant %s", at2, tt.at2)
			}
		})
	}
}

func TestTopKGroupWindow(t *testing.T) {
	vals := []rowDiff{{Row{Int64(1)}, 2}, {Row{Int64(2)}, 3}, {Row{Int64(3)}, 1}}
	order := []orderColumn{{col: 0}}
	tests := []struct {
		limit, offset int64
		want          string
	}{
		{-1, 0, "(1)x2 (2)x3 (3)x1"},
		{1, 0, "(1)x1"},
		{3, 1, "(1)x1 (2)x2"},
		{2, 4, "(2)x1 (3)x1"},
		{5, 6, ""},
		{0, 0, ""},
		{1 << 62, 1 << 62, ""},
		{1<<63 - 1, 1, "(1)x1 (2)x3 (3)x1"},
	}
	for _, tt := range tests {
		got, msg := topKGroup(nil, order, tt.limit, tt.offset, vals)
		var parts []string
		for _, g := range got {
			parts = append(parts, fmt.Sprintf("%sx%d", g.row, g.diff))
		}
		if s := strings.Join(parts, " "); s != tt.want || msg != "" {
			t.Errorf("limit %d offset %d: got %q %q, want %q", tt.limit, tt.offset, s, msg, tt.want)
		}
	}
}

func TestAggregateOverflow(t *testing.T) {
	big := []rowDiff{{Row{Int64(1 << 62)}, 2}, {Row{Int64(1 << 62)}, 1}}
	if _, msg := aggregateGroup(aggregate{fn: aggSum, col: 0, typ: TypeInt64}, big); msg != "int64 overflow in sum" {
		t.Fatalf("sum overflow: got %q", msg)
	}
	// The average of the same values does not overflow: it sums in 128 bits.
	if d, msg := aggregateGroup(aggregate{fn: aggAvg, col: 0, typ: TypeInt64}, big); msg != "" || d.AsFloat64() != float64(1<<62) {
		t.Fatalf("avg: got %s %q", d, msg)
	}
	// Intermediate overflow that cancels out is not an error.
	cancel := []rowDiff{{Row{Int64(-(1 << 62))}, 2}, {Row{Int64(1 << 62)}, 3}}
	if d, msg := aggregateGroup(aggregate{fn: aggSum, col: 0, typ: TypeInt64}, cancel); msg != "" || d.AsInt64() != 1<<62 {
		t.Fatalf("sum: got %s %q", d, msg)
	}
	fl := []rowDiff{{Row{Float64(1e308)}, 3}}
	if _, msg := aggregateGroup(aggregate{fn: aggSum, col: 0, typ: TypeFloat64}, fl); msg != "float64 overflow in sum" {
		t.Fatalf("float sum overflow: got %q", msg)
	}
}

func TestDataflowAPIErrors(t *testing.T) {
	plan, err := Compile(projectP(getP(srcA), 0), testSources)
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(plan, Config{AsOf: 5})
	if f := df.OutputFrontier(); f != timely.At(5) {
		t.Fatalf("initial output frontier %s, want [5]", f)
	}
	if err := df.Push(srcB, nil); !errors.Is(err, ErrUnknownSource) {
		t.Fatalf("push to unknown source: %v", err)
	}
	if err := df.AdvanceInput(srcB, timely.At(1)); !errors.Is(err, ErrUnknownSource) {
		t.Fatalf("advance unknown source: %v", err)
	}
	if err := df.Push(srcA, []Update{{Row: Row{Int64(1)}, Time: 1, Diff: 1}}); !errors.Is(err, ErrInvalidRow) {
		t.Fatalf("bad row: %v", err)
	}
	// Updates before as_of are advanced to as_of.
	if err := df.Push(srcA, []Update{ins(rowA(1, Null(), "a")), {Row: rowA(2, Null(), "b"), Time: 7, Diff: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := df.AdvanceInput(srcA, timely.At(7)); err != nil {
		t.Fatal(err)
	}
	if err := df.Push(srcA, []Update{{Row: rowA(1, Null(), "a"), Time: 6, Diff: 1}}); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("push before frontier: %v", err)
	}
	if err := df.AdvanceInput(srcA, timely.At(6)); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("frontier regression: %v", err)
	}
	us, _ := df.TakeOutput()
	if len(us) != 1 || us[0].Time != 5 || !us[0].Row.Equal(Row{Int64(1)}) {
		t.Fatalf("output %v, want (1) at 5", us)
	}
	if _, err := df.Peek(PeekSpec{Time: 4}); !errors.Is(err, ErrCompacted) {
		t.Fatalf("peek before as_of: %v", err)
	}
	if _, err := df.Peek(PeekSpec{Time: 7}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("peek at upper: %v", err)
	}
	if err := df.Compact(timely.At(6)); err != nil {
		t.Fatal(err)
	}
	if err := df.Compact(timely.At(5)); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("since regression: %v", err)
	}
	if _, err := df.Peek(PeekSpec{Time: 5}); !errors.Is(err, ErrCompacted) || !strings.Contains(err.Error(), "since is [6]") {
		t.Fatalf("peek before since: %v", err)
	}
	if rows, err := df.Peek(PeekSpec{Time: 6}); err != nil || len(rows) != 1 {
		t.Fatalf("peek at since: %v %v", rows, err)
	}
	if _, err := df.Peek(PeekSpec{Time: 6, Key: Row{Int64(1), Int64(2)}}); !errors.Is(err, ErrInvalidRow) {
		t.Fatalf("peek with a key of the wrong arity: %v", err)
	}
	if err := df.AdvanceInput(srcA, timely.Closed()); err != nil {
		t.Fatal(err)
	}
	if !df.OutputFrontier().IsEmpty() {
		t.Fatalf("output frontier %s after the only input closed", df.OutputFrontier())
	}
}

func TestConstantOnlyDataflowIsComplete(t *testing.T) {
	plan, err := Compile(constP(Schema{{Name: "a", Type: TypeInt64}}, Row{Int64(1)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(plan, Config{AsOf: 3})
	if !df.OutputFrontier().IsEmpty() {
		t.Fatalf("output frontier %s, want closed", df.OutputFrontier())
	}
	us, _ := df.TakeOutput()
	if len(us) != 1 || us[0].Time != 3 {
		t.Fatalf("output %v", us)
	}
}

// The bounded selection of small windows agrees with sorting the group.
func TestTopKSelectionMatchesSort(t *testing.T) {
	seed := int64(7)
	r := rand.New(rand.NewSource(seed))
	for iter := 0; iter < 2000; iter++ {
		var vals []rowDiff
		for i := r.Intn(30); i > 0; i-- {
			vals = append(vals, rowDiff{row: Row{Int64(int64(r.Intn(10))), Int64(int64(i))}, diff: int64(1 + r.Intn(3))})
		}
		vals = consolidateRows(vals)
		order := []orderColumn{{col: 0, desc: r.Intn(2) == 0}}
		limit, offset := int64(r.Intn(5)), int64(r.Intn(4))
		got, _ := topKGroup(nil, order, limit, offset, vals)
		// Reference: expand every copy, sort, cut.
		var copies []Row
		for _, v := range vals {
			for j := int64(0); j < v.diff; j++ {
				copies = append(copies, v.row)
			}
		}
		sort.SliceStable(copies, func(i, j int) bool { return compareBy(order, copies[i], copies[j]) < 0 })
		lo := min(int(offset), len(copies))
		hi := min(int(offset+limit), len(copies))
		want := multiset{}
		for _, c := range copies[lo:hi] {
			want.add(c, 1)
		}
		gotSet := multiset{}
		for _, g := range got {
			gotSet.add(g.row, g.diff)
		}
		if !equalMultisets(gotSet, want) {
			t.Fatalf("seed %d iteration %d: limit %d offset %d over %v: got %v, want %v", seed, iter, limit, offset, vals, gotSet, want)
		}
	}
}

// A row ordered after a TopK's window that goes negative still makes the
// group an error: the shortcut for updates after the window's boundary must
// not skip the multiplicity check.
func TestTopKNegativeAfterBoundary(t *testing.T) {
	w := topKP(unionP(projectP(getP(srcA), 0), negateP(projectP(getP(srcB), 0))), nil,
		[]*messages.OrderColumn{orderBy(0, false, false)}, 1, 0)
	plan, err := Compile(w, testSources)
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(plan, Config{})
	if err := df.Push(srcA, []Update{ins(rowA(1, Null(), "a")), ins(rowA(5, Null(), "b"))}); err != nil {
		t.Fatal(err)
	}
	if err := df.Push(srcB, []Update{{Row: rowB(iv(7), "c"), Time: 2, Diff: 1}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []timely.GlobalId{srcA, srcB} {
		if err := df.AdvanceInput(id, timely.At(3)); err != nil {
			t.Fatal(err)
		}
	}
	if rows, err := df.Peek(PeekSpec{Time: 1}); err != nil || len(rows) != 1 || rows[0][0].AsInt64() != 1 {
		t.Fatalf("at 1: got %v %v, want (1)", rows, err)
	}
	if _, err := df.Peek(PeekSpec{Time: 2}); !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "negative multiplicity") {
		t.Fatalf("at 2: got %v, want the negative multiplicity error", err)
	}
}

func TestStats(t *testing.T) {
	plan, err := Compile(reduceP(getP(srcA), []int{0}, agg(aggCountW, -1)), testSources)
	if err != nil {
		t.Fatal(err)
	}
	df := NewDataflow(plan, Config{})
	if err := df.Push(srcA, append(defaultAData, Update{Row: rowA(9, Null(), "q"), Time: 5, Diff: 1})); err != nil {
		t.Fatal(err)
	}
	if err := df.AdvanceInput(srcA, timely.At(2)); err != nil {
		t.Fatal(err)
	}
	got := df.Stats()
	want := Stats{OutputKeys: 3, OutputEntries: 3, StateEntries: 5, StateGroups: 3, Pending: 1}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
