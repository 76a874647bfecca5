package dataflow

import (
	"fmt"
	"math"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Compile validates and type checks a wire plan against the schemas of the
// sources it may read. Errors wrap ErrInvalidPlan and say where in the tree
// the problem is ("Filter > Join input 1 > Get: unknown source u7").
func Compile(w *messages.Plan, sources map[timely.GlobalId]Schema) (*Plan, error) {
	c := &compiler{sources: sources, used: map[timely.GlobalId]bool{}}
	root, err := c.compile(w)
	if err != nil {
		return nil, err
	}
	markMonotonic(root)
	return &Plan{root: root, sources: sortedSources(c.used), wire: proto.Clone(w).(*messages.Plan)}, nil
}

// DecodePlan unmarshals a binary wire plan and compiles it.
func DecodePlan(b []byte, sources map[timely.GlobalId]Schema) (*Plan, error) {
	var w messages.Plan
	if err := proto.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: decode plan: %v", ErrInvalidPlan, err)
	}
	return Compile(&w, sources)
}

// DecodePlanJSON parses a plan written in protojson (the form people write
// by hand; see the package doc) and compiles it.
func DecodePlanJSON(b []byte, sources map[timely.GlobalId]Schema) (*Plan, error) {
	var w messages.Plan
	if err := protojson.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: decode plan JSON: %v", ErrInvalidPlan, err)
	}
	return Compile(&w, sources)
}

type compiler struct {
	sources map[timely.GlobalId]Schema
	used    map[timely.GlobalId]bool
}

func (c *compiler) input(w *messages.Plan, op string) (*node, error) {
	if w == nil {
		return nil, invalidf("%s: input is missing", op)
	}
	n, err := c.compile(w)
	if err != nil {
		return nil, fmt.Errorf("%s > %w", op, err)
	}
	return n, nil
}

func (c *compiler) compile(w *messages.Plan) (*node, error) {
	if w == nil {
		return nil, invalidf("plan is missing")
	}
	switch k := w.Node.(type) {
	case *messages.Plan_Get:
		return c.get(k.Get)
	case *messages.Plan_Constant:
		return c.constant(k.Constant)
	case *messages.Plan_Filter:
		return c.filter(k.Filter)
	case *messages.Plan_Map:
		return c.mapNode(k.Map)
	case *messages.Plan_Project:
		return c.project(k.Project)
	case *messages.Plan_Reduce:
		return c.reduce(k.Reduce)
	case *messages.Plan_Join:
		return c.join(k.Join)
	case *messages.Plan_Union:
		return c.union(k.Union)
	case *messages.Plan_Distinct:
		in, err := c.input(k.Distinct.GetInput(), "Distinct")
		if err != nil {
			return nil, err
		}
		return &node{kind: kindDistinct, schema: in.schema, inputs: []*node{in}}, nil
	case *messages.Plan_Negate:
		in, err := c.input(k.Negate.GetInput(), "Negate")
		if err != nil {
			return nil, err
		}
		return &node{kind: kindNegate, schema: in.schema, inputs: []*node{in}}, nil
	case *messages.Plan_TopK:
		return c.topK(k.TopK)
	case *messages.Plan_TemporalFilter:
		return c.temporalFilter(k.TemporalFilter)
	case *messages.Plan_ArrangeBy:
		in, err := c.input(k.ArrangeBy.GetInput(), "ArrangeBy")
		if err != nil {
			return nil, err
		}
		key, err := resolveColumns(k.ArrangeBy.GetKey(), in.schema, "key column")
		if err != nil {
			return nil, fmt.Errorf("ArrangeBy: %w", err)
		}
		return &node{kind: kindArrangeBy, schema: in.schema, inputs: []*node{in}, cols: key}, nil
	}
	return nil, invalidf("plan node has no operator")
}

func (c *compiler) get(g *messages.GetPlan) (*node, error) {
	id, err := g.GetSource().ToTimely()
	if err != nil {
		return nil, fmt.Errorf("%w: Get: %v", ErrInvalidPlan, err)
	}
	s, ok := c.sources[id]
	if !ok {
		return nil, invalidf("Get: unknown source %s", id)
	}
	c.used[id] = true
	return &node{kind: kindGet, schema: s, source: id, monotonic: g.GetAppendOnly()}, nil
}

func (c *compiler) constant(k *messages.ConstantPlan) (*node, error) {
	s, err := SchemaFromWire(k.GetSchema())
	if err != nil {
		return nil, fmt.Errorf("%w: Constant: %v", ErrInvalidPlan, err)
	}
	n := &node{kind: kindConstant, schema: s}
	for i, cr := range k.GetRows() {
		r, err := RowFromWire(cr.GetRow())
		if err != nil {
			return nil, fmt.Errorf("%w: Constant row %d: %v", ErrInvalidPlan, i, err)
		}
		if err := s.Validate(r); err != nil {
			return nil, fmt.Errorf("%w: Constant row %d: %v", ErrInvalidPlan, i, err)
		}
		diff := int64(1)
		if cr.Diff != nil {
			diff = cr.GetDiff()
		}
		n.constRows = append(n.constRows, rowDiff{row: r, diff: diff})
	}
	n.constRows = consolidateRows(n.constRows)
	return n, nil
}

func (c *compiler) filter(k *messages.FilterPlan) (*node, error) {
	in, err := c.input(k.GetInput(), "Filter")
	if err != nil {
		return nil, err
	}
	n := &node{kind: kindFilter, schema: in.schema, inputs: []*node{in}}
	for i, w := range k.GetPredicates() {
		e, err := compileExpr(w, in.schema)
		if err != nil {
			return nil, fmt.Errorf("Filter predicate %d: %w", i, err)
		}
		if e.typ != TypeBool {
			return nil, invalidf("Filter predicate %d: type mismatch: predicate %s has type %s, want bool", i, e, e.typ)
		}
		n.exprs = append(n.exprs, e)
	}
	return n, nil
}

func (c *compiler) temporalFilter(k *messages.TemporalFilterPlan) (*node, error) {
	in, err := c.input(k.GetInput(), "TemporalFilter")
	if err != nil {
		return nil, err
	}
	n := &node{kind: kindTemporalFilter, schema: in.schema, inputs: []*node{in}}
	bound := func(w *messages.Expr, name string) (*Expr, error) {
		if w == nil {
			return nil, nil
		}
		e, err := compileExpr(w, in.schema)
		if err != nil {
			return nil, fmt.Errorf("TemporalFilter %s: %w", name, err)
		}
		if e.typ != TypeTimestamp {
			return nil, invalidf("TemporalFilter %s: type mismatch: %s has type %s, want timestamp", name, e, e.typ)
		}
		return e, nil
	}
	if n.validFrom, err = bound(k.GetValidFrom(), "valid_from"); err != nil {
		return nil, err
	}
	if n.validTo, err = bound(k.GetValidUntil(), "valid_until"); err != nil {
		return nil, err
	}
	return n, nil
}

func (c *compiler) mapNode(k *messages.MapPlan) (*node, error) {
	in, err := c.input(k.GetInput(), "Map")
	if err != nil {
		return nil, err
	}
	schema := append(Schema(nil), in.schema...)
	n := &node{kind: kindMap, inputs: []*node{in}}
	for i, ne := range k.GetExprs() {
		e, err := compileExpr(ne.GetExpr(), schema)
		if err != nil {
			return nil, fmt.Errorf("Map expression %d (%q): %w", i, ne.GetName(), err)
		}
		n.exprs = append(n.exprs, e)
		schema = append(schema, Column{Name: ne.GetName(), Type: e.typ, Nullable: e.nullable})
	}
	n.schema = schema
	return n, nil
}

func (c *compiler) project(k *messages.ProjectPlan) (*node, error) {
	in, err := c.input(k.GetInput(), "Project")
	if err != nil {
		return nil, err
	}
	cols, err := resolveColumns(k.GetColumns(), in.schema, "column")
	if err != nil {
		return nil, fmt.Errorf("Project: %w", err)
	}
	schema := make(Schema, len(cols))
	for i, col := range cols {
		schema[i] = in.schema[col]
	}
	return &node{kind: kindProject, schema: schema, inputs: []*node{in}, cols: cols}, nil
}

var aggNames = map[messages.AggregateFunc]aggFunc{
	messages.AggregateFunc_AGGREGATE_FUNC_COUNT: aggCount,
	messages.AggregateFunc_AGGREGATE_FUNC_SUM:   aggSum,
	messages.AggregateFunc_AGGREGATE_FUNC_MIN:   aggMin,
	messages.AggregateFunc_AGGREGATE_FUNC_MAX:   aggMax,
	messages.AggregateFunc_AGGREGATE_FUNC_AVG:   aggAvg,
}

func (f aggFunc) String() string {
	return [...]string{"?", "count", "sum", "min", "max", "avg"}[f]
}

func (c *compiler) reduce(k *messages.ReducePlan) (*node, error) {
	in, err := c.input(k.GetInput(), "Reduce")
	if err != nil {
		return nil, err
	}
	key, err := resolveColumns(k.GetGroupKey(), in.schema, "group key column")
	if err != nil {
		return nil, fmt.Errorf("Reduce: %w", err)
	}
	n := &node{kind: kindReduce, inputs: []*node{in}, groupKey: key}
	schema := make(Schema, 0, len(key)+len(k.GetAggregates()))
	for _, col := range key {
		schema = append(schema, in.schema[col])
	}
	for i, a := range k.GetAggregates() {
		fn, ok := aggNames[a.GetFunc()]
		if !ok {
			return nil, invalidf("Reduce aggregate %d: unknown function %v", i, a.GetFunc())
		}
		agg := aggregate{fn: fn, col: -1}
		out := Column{Name: a.GetName()}
		if out.Name == "" {
			out.Name = fn.String()
		}
		if a.GetColumn() == nil {
			if fn != aggCount {
				return nil, invalidf("Reduce aggregate %d: %s needs a column", i, fn)
			}
		} else {
			if agg.col, err = resolveColumn(a.GetColumn(), in.schema); err != nil {
				return nil, fmt.Errorf("Reduce aggregate %d (%s): %w", i, fn, err)
			}
			agg.typ = in.schema[agg.col].Type
		}
		nullable := agg.col >= 0 && in.schema[agg.col].Nullable
		switch fn {
		case aggCount:
			out.Type = TypeInt64
		case aggSum, aggAvg:
			if !isNumeric(agg.typ) {
				return nil, invalidf("Reduce aggregate %d: type mismatch: %s of %s column %s", i, fn, agg.typ, in.schema.columnName(agg.col))
			}
			out.Type, out.Nullable = agg.typ, nullable
			if fn == aggAvg {
				out.Type = TypeFloat64
			}
		default:
			out.Type, out.Nullable = agg.typ, nullable
		}
		n.aggs = append(n.aggs, agg)
		schema = append(schema, out)
	}
	n.schema = schema
	return n, nil
}

func (c *compiler) union(k *messages.UnionPlan) (*node, error) {
	if len(k.GetInputs()) == 0 {
		return nil, invalidf("Union: needs at least one input")
	}
	n := &node{kind: kindUnion}
	for i, w := range k.GetInputs() {
		in, err := c.input(w, fmt.Sprintf("Union input %d", i))
		if err != nil {
			return nil, err
		}
		if i == 0 {
			n.schema = append(Schema(nil), in.schema...)
		} else {
			if len(in.schema) != len(n.schema) {
				return nil, invalidf("Union: wrong arity: input %d has %d columns, input 0 has %d", i, len(in.schema), len(n.schema))
			}
			for j, col := range in.schema {
				if col.Type != n.schema[j].Type {
					return nil, invalidf("Union: type mismatch: column %d is %s in input %d but %s in input 0", j, col.Type, i, n.schema[j].Type)
				}
				n.schema[j].Nullable = n.schema[j].Nullable || col.Nullable
			}
		}
		n.inputs = append(n.inputs, in)
	}
	return n, nil
}

func (c *compiler) topK(k *messages.TopKPlan) (*node, error) {
	in, err := c.input(k.GetInput(), "TopK")
	if err != nil {
		return nil, err
	}
	key, err := resolveColumns(k.GetGroupKey(), in.schema, "group key column")
	if err != nil {
		return nil, fmt.Errorf("TopK: %w", err)
	}
	order, err := compileOrder(k.GetOrder(), in.schema)
	if err != nil {
		return nil, fmt.Errorf("TopK: %w", err)
	}
	n := &node{kind: kindTopK, schema: in.schema, inputs: []*node{in}, groupKey: key, order: order, limit: -1}
	if k.Limit != nil {
		n.limit = clampInt64(k.GetLimit())
	}
	n.offset = clampInt64(k.GetOffset())
	return n, nil
}

func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

func compileOrder(w []*messages.OrderColumn, schema Schema) ([]orderColumn, error) {
	out := make([]orderColumn, len(w))
	for i, o := range w {
		col, err := resolveColumn(o.GetColumn(), schema)
		if err != nil {
			return nil, fmt.Errorf("order column %d: %w", i, err)
		}
		out[i] = orderColumn{col: col, desc: o.GetDesc(), nullsLast: o.GetNullsLast()}
	}
	return out, nil
}
