package dataflow

import (
	"fmt"
	"slices"
	"strings"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Plan is a validated, type-checked plan: a tree of operators over source
// collections, ready to be instantiated as a Dataflow or evaluated from
// scratch with Evaluate. It is immutable and may be shared.
type Plan struct {
	root    *node
	sources []timely.GlobalId
	wire    *messages.Plan
}

// Schema returns the schema of the plan's output collection.
func (p *Plan) Schema() Schema { return p.root.schema }

// Sources returns the ids of the collections the plan reads, in increasing
// order, each once.
func (p *Plan) Sources() []timely.GlobalId { return append([]timely.GlobalId(nil), p.sources...) }

// ArrangementKey returns the key columns of the plan's output arrangement:
// the key of a root ArrangeBy, or every column otherwise.
func (p *Plan) ArrangementKey() []int {
	if p.root.kind == kindArrangeBy {
		return append([]int(nil), p.root.cols...)
	}
	key := make([]int, len(p.root.schema))
	for i := range key {
		key[i] = i
	}
	return key
}

// Proto returns the wire form the plan was compiled from. The caller must
// not modify it.
func (p *Plan) Proto() *messages.Plan { return p.wire }

// String prints the plan as an indented operator tree.
func (p *Plan) String() string {
	var b strings.Builder
	p.root.write(&b, 0)
	return b.String()
}

type nodeKind uint8

const (
	kindGet nodeKind = iota + 1
	kindConstant
	kindFilter
	kindMap
	kindProject
	kindReduce
	kindJoin
	kindUnion
	kindDistinct
	kindNegate
	kindTopK
	kindArrangeBy
	kindTemporalFilter
)

var kindNames = map[nodeKind]string{
	kindGet: "Get", kindConstant: "Constant", kindFilter: "Filter", kindMap: "Map",
	kindProject: "Project", kindReduce: "Reduce", kindJoin: "Join", kindUnion: "Union",
	kindDistinct: "Distinct", kindNegate: "Negate", kindTopK: "TopK", kindArrangeBy: "ArrangeBy",
	kindTemporalFilter: "TemporalFilter",
}

// node is one operator of a compiled plan. Only the fields of its kind are
// set.
type node struct {
	kind   nodeKind
	schema Schema
	inputs []*node

	source    timely.GlobalId // Get
	constRows []rowDiff       // Constant
	exprs     []*Expr         // Filter predicates, Map expressions
	cols      []int           // Project columns, ArrangeBy key
	groupKey  []int           // Reduce, TopK
	aggs      []aggregate     // Reduce
	join      *joinSpec       // Join
	order     []orderColumn   // TopK
	limit     int64           // TopK; -1 without a limit
	offset    int64           // TopK
	validFrom *Expr           // TemporalFilter; nil: no lower bound
	validTo   *Expr           // TemporalFilter; nil: no upper bound

	// monotonic: the collection only ever gains rows (see markMonotonic);
	// on a Get, the plan declared the source append-only.
	monotonic bool
	// nonNegative: no multiplicity of the collection is ever negative, by
	// construction (see markMonotonic).
	nonNegative bool
}

func (n *node) write(b *strings.Builder, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString(kindNames[n.kind])
	switch n.kind {
	case kindGet:
		b.WriteString(" " + n.source.String())
		if n.monotonic {
			b.WriteString(" append-only")
		}
	case kindConstant:
		for _, r := range n.constRows {
			fmt.Fprintf(b, " %s x%d", r.row, r.diff)
		}
	case kindFilter, kindMap:
		for _, e := range n.exprs {
			b.WriteString(" " + e.String())
		}
	case kindTemporalFilter:
		if n.validFrom != nil {
			b.WriteString(" from " + n.validFrom.String())
		}
		if n.validTo != nil {
			b.WriteString(" until " + n.validTo.String())
		}
	case kindProject, kindArrangeBy:
		fmt.Fprintf(b, " %v", n.cols)
	case kindReduce:
		fmt.Fprintf(b, " key %v", n.groupKey)
		for _, a := range n.aggs {
			fmt.Fprintf(b, " %s(#%d)", a.fn, a.col)
		}
	case kindTopK:
		fmt.Fprintf(b, " key %v order %v limit %d offset %d", n.groupKey, n.order, n.limit, n.offset)
	case kindJoin:
		for _, c := range n.join.classes {
			fmt.Fprintf(b, " %v", c)
		}
	}
	b.WriteString(" -> " + n.schema.String() + "\n")
	for _, in := range n.inputs {
		in.write(b, depth+1)
	}
}

// rowDiff is a row with a multiplicity, at an implied time.
type rowDiff struct {
	row  Row
	diff int64
}

type aggFunc uint8

const (
	aggCount aggFunc = iota + 1
	aggSum
	aggMin
	aggMax
	aggAvg
)

// aggregate is one aggregate of a Reduce; col is -1 for count(*).
type aggregate struct {
	fn  aggFunc
	col int
	typ Type // of the input column, when there is one
}

// orderColumn is one column of an ordering.
type orderColumn struct {
	col       int
	desc      bool
	nullsLast bool
}

// compareBy orders rows by the columns, then by the whole row, so that the
// order is total and deterministic.
func compareBy(order []orderColumn, a, b Row) int {
	for _, o := range order {
		x, y := a[o.col], b[o.col]
		if x.IsNull() != y.IsNull() {
			if x.IsNull() == o.nullsLast {
				return 1
			}
			return -1
		}
		c := x.Compare(y)
		if o.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return a.Compare(b)
}

// joinSpec is the compiled form of a join: a left-deep chain where step k
// joins the prefix of inputs 0..k-1 with input k.
type joinSpec struct {
	offsets []int       // first column of each input in the output
	filters [][][2]int  // per input: pairs of its columns that must be equal and non-null
	steps   []joinStep  // steps[k-1] joins input k
	classes [][]joinCol // the equivalence classes, for the oracle
}

type joinStep struct {
	prefixKey []int // columns of the prefix (concatenated) row
	inputKey  []int // columns of input k
}

type joinCol struct{ input, col int }

func sortedSources(set map[timely.GlobalId]bool) []timely.GlobalId {
	out := make([]timely.GlobalId, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.SortFunc(out, timely.GlobalId.Compare)
	return out
}
