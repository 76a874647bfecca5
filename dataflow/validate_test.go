package dataflow

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func TestCompileErrors(t *testing.T) {
	gA, gB := getP(srcA), getP(srcB)
	tests := []struct {
		name string
		plan *messages.Plan
		want string
	}{
		{"nil plan", nil, "plan is missing"},
		{"empty plan", &messages.Plan{}, "plan node has no operator"},
		{"unknown source", getP(timely.UserId(9)), "Get: unknown source u9"},
		{"get without id", &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{}}}, "Get: malformed message: global id is missing"},
		{"filter without input", &messages.Plan{Node: &messages.Plan_Filter{Filter: &messages.FilterPlan{}}}, "Filter: input is missing"},
		{"filter not bool", filterP(gA, colE(0)), "Filter predicate 0: type mismatch: predicate k has type int64, want bool"},
		{"filter unknown column", filterP(gA, binE(opEq, colE(7), colE(0))), "Filter predicate 0: left operand of =: dataflow: invalid plan: unknown column #7"},
		{"nested error names the path", distinctP(filterP(gA, colE(9))), "Distinct > Filter predicate 0"},
		{"map type mismatch", mapP(gA, binE(opAdd, colE(0), colE(2))), `Map expression 0 (""): dataflow: invalid plan: type mismatch: + needs numeric operands, got int64 + string`},
		{"project unknown column", projectP(gA, 0, 3), "Project: column 1: dataflow: invalid plan: unknown column #3"},
		{"reduce unknown key", reduceP(gA, []int{5}), "Reduce: group key column 0"},
		{"reduce sum of string", reduceP(gA, nil, agg(aggSumW, 2)), `type mismatch: sum of string column "s" (#2)`},
		{"reduce min needs column", reduceP(gA, nil, agg(aggMinW, -1)), "min needs a column"},
		{"reduce unknown func", reduceP(gA, nil, &messages.Aggregate{}), "unknown function"},
		{"join one input", joinP([]*messages.Plan{gA}), "Join: needs at least two inputs, got 1"},
		{"join bad input index", joinP([]*messages.Plan{gA, gB}, eqv(0, 0, 2, 0)), "names input 2, the join has 2 inputs"},
		{"join type mismatch", joinP([]*messages.Plan{gA, gB}, eqv(0, 0, 1, 1)), "Join equivalence 0: type mismatch"},
		{"join single column equivalence", joinP([]*messages.Plan{gA, gB}, eqv(0, 0)), "needs at least two columns"},
		{"join column listed twice", joinP([]*messages.Plan{gA, gB}, eqv(0, 0, 1, 0, 0, 0)), `input 0 column "k" (#0) is listed twice`},
		{"union arity", unionP(gA, gB), "Union: wrong arity: input 1 has 2 columns, input 0 has 3"},
		{"union types", unionP(projectP(gA, 0), projectP(gB, 1)), "Union: type mismatch: column 0 is string in input 1 but int64 in input 0"},
		{"union empty", unionP(), "Union: needs at least one input"},
		{"topk order column", topKP(gA, nil, []*messages.OrderColumn{orderBy(4, false, false)}, 1, 0), "TopK: order column 0"},
		{"arrange by unknown column", arrangeP(gA, 3), "ArrangeBy: key column 0"},
		{"constant row mismatch", constP(Schema{{Name: "a", Type: TypeInt64}}, Row{String("x")}), "Constant row 0"},
		{"constant bad schema", &messages.Plan{Node: &messages.Plan_Constant{Constant: &messages.ConstantPlan{}}}, "Constant: malformed message: schema is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.plan, testSources)
			if !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant ErrInvalidPlan containing %q", err, tt.want)
			}
		})
	}
}

func TestCompileSchemas(t *testing.T) {
	gA := getP(srcA)
	tests := []struct {
		name string
		plan *messages.Plan
		want string
	}{
		{"get", gA, "(k int64, v int64 null, s string)"},
		{"map names", &messages.Plan{Node: &messages.Plan_Map{Map: &messages.MapPlan{Input: gA, Exprs: []*messages.NamedExpr{
			{Name: "double", Expr: binE(opMul, colE(0), litE(Int64(2)))},
			{Name: "again", Expr: &messages.Expr{Kind: &messages.Expr_Column{Column: refName("double")}}},
		}}}}, "(k int64, v int64 null, s string, double int64, again int64)"},
		{"reduce", reduceP(gA, []int{2}, agg(aggCountW, -1), agg(aggSumW, 1), agg(aggAvgW, 0), agg(aggMaxW, 2)),
			"(s string, count int64, sum int64 null, avg float64, max string)"},
		{"join", joinP([]*messages.Plan{projectP(gA, 0), getP(srcB)}, eqv(0, 0, 1, 0)), "(k int64, k int64 null, w string)"},
		{"union widens nullability", unionP(projectP(gA, 0), projectP(getP(srcB), 0)), "(k int64 null)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.plan, testSources)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Schema().String(); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// The JSON examples of doc.go and docs/dataflow.md compile and run.
func TestDocExamples(t *testing.T) {
	sources := map[timely.GlobalId]Schema{
		timely.UserId(1): {{Name: "id", Type: TypeInt64}, {Name: "customer", Type: TypeString}, {Name: "amount", Type: TypeInt64}},
		timely.UserId(2): {{Name: "name", Type: TypeString}, {Name: "region", Type: TypeString}},
	}
	for name, js := range docExamples {
		t.Run(name, func(t *testing.T) {
			p, err := DecodePlanJSON([]byte(js), sources)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			b, err := proto.Marshal(p.Proto())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := DecodePlan(b, sources); err != nil {
				t.Fatalf("binary round trip: %v", err)
			}
		})
	}
}

func TestDecodePlanJSONErrors(t *testing.T) {
	tests := []struct{ js, want string }{
		{`{"filter": `, "decode plan JSON"},
		{`{"nope": {}}`, "decode plan JSON"},
		{`{"get": {"source": {"kind": "ID_KIND_USER", "value": "9"}}}`, "Get: unknown source u9"},
	}
	for _, tt := range tests {
		if _, err := DecodePlanJSON([]byte(tt.js), testSources); !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.js, err, tt.want)
		}
	}
}

// The examples in doc.go are exactly docExamples (up to white space).
func TestDocExamplesMatchDocGo(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	squash := func(s string) string {
		s = strings.ReplaceAll(s, "//", "")
		return strings.Join(strings.Fields(s), "")
	}
	doc := squash(string(src))
	for name, js := range docExamples {
		if !strings.Contains(doc, squash(js)) {
			t.Errorf("example %q is not in doc.go", name)
		}
	}
}

// docExamples are the plans shown in doc.go; keep the two in step.
var docExamples = map[string]string{
	"big orders": `{"filter": {
  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
  "predicates": [{"binary": {"op": "BINARY_OP_GT",
    "left": {"column": {"name": "amount"}},
    "right": {"literal": {"value": {"int64": "100"}}}}}]}}`,
	"totals per customer": `{"reduce": {
  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
  "groupKey": [{"name": "customer"}],
  "aggregates": [{"func": "AGGREGATE_FUNC_COUNT", "name": "orders"},
                 {"func": "AGGREGATE_FUNC_SUM", "column": {"name": "amount"}, "name": "total"}]}}`,
	"orders with region": `{"arrangeBy": {
  "key": [{"index": 1}],
  "input": {"join": {
    "inputs": [{"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
               {"get": {"source": {"kind": "ID_KIND_USER", "value": "2"}}}],
    "equivalences": [{"columns": [{"input": 0, "column": {"name": "customer"}},
                                  {"input": 1, "column": {"name": "name"}}]}]}}}}`,
	"top 3 orders per customer": `{"topK": {
  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
  "groupKey": [{"name": "customer"}],
  "order": [{"column": {"name": "amount"}, "desc": true}],
  "limit": "3"}}`,
	"map with case": `{"map": {
  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
  "exprs": [{"name": "size", "expr": {"case": {
    "whens": [{"cond": {"binary": {"op": "BINARY_OP_GE", "left": {"column": {"name": "amount"}},
                                   "right": {"literal": {"value": {"int64": "1000"}}}}},
               "then": {"literal": {"value": {"string": "large"}}}}],
    "else": {"literal": {"value": {"string": "small"}}}}}}]}}`,
	"orders of the last day": `{"temporalFilter": {
  "input": {"get": {"source": {"kind": "ID_KIND_USER", "value": "1"}}},
  "validFrom": {"cast": {"arg": {"column": {"name": "id"}}, "type": "SCALAR_TYPE_TIMESTAMP"}},
  "validUntil": {"binary": {"op": "BINARY_OP_ADD",
    "left": {"cast": {"arg": {"column": {"name": "id"}}, "type": "SCALAR_TYPE_TIMESTAMP"}},
    "right": {"literal": {"value": {"int64": "86400000"}}}}}}}`,
}

func TestEvaluateRejectsBadInput(t *testing.T) {
	plan, err := Compile(getP(srcA), testSources)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Evaluate(plan, map[timely.GlobalId][]Update{srcB: nil}); !errors.Is(err, ErrUnknownSource) {
		t.Fatalf("unknown source: %v", err)
	}
	if _, err := Evaluate(plan, map[timely.GlobalId][]Update{srcA: {{Row: Row{Int64(1)}, Diff: 1}}}); !errors.Is(err, ErrInvalidRow) {
		t.Fatalf("bad row: %v", err)
	}
	c, err := Evaluate(plan, map[timely.GlobalId][]Update{srcA: defaultAData})
	if err != nil || len(c.Rows) != 5 {
		t.Fatalf("got %v %v", c, err)
	}
}

// The typed null literal shown in docs/dataflow.md parses and compiles.
func TestTypedNullLiteralJSON(t *testing.T) {
	var w messages.Expr
	if err := protojson.Unmarshal([]byte(`{"literal": {"value": {"null": {}}, "type": "SCALAR_TYPE_INT64"}}`), &w); err != nil {
		t.Fatal(err)
	}
	e, err := CompileExpr(&w, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type() != TypeInt64 || !e.Nullable() {
		t.Fatalf("got %s nullable=%v", e.Type(), e.Nullable())
	}
}
