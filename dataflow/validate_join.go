package dataflow

import (
	"fmt"

	"github.com/arbor-db/arbor/messages"
)

// join compiles a Join: it merges overlapping equivalences into classes and
// plans the left-deep chain of binary joins (see joinSpec).
func (c *compiler) join(k *messages.JoinPlan) (*node, error) {
	if len(k.GetInputs()) < 2 {
		return nil, invalidf("Join: needs at least two inputs, got %d", len(k.GetInputs()))
	}
	n := &node{kind: kindJoin}
	spec := &joinSpec{}
	for i, w := range k.GetInputs() {
		in, err := c.input(w, fmt.Sprintf("Join input %d", i))
		if err != nil {
			return nil, err
		}
		spec.offsets = append(spec.offsets, len(n.schema))
		n.schema = append(n.schema, in.schema...)
		n.inputs = append(n.inputs, in)
	}
	// Union-find over (input, column) to merge overlapping equivalences.
	parent := map[joinCol]joinCol{}
	var find func(x joinCol) joinCol
	find = func(x joinCol) joinCol {
		p, ok := parent[x]
		if !ok || p == x {
			parent[x] = x
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	for i, eq := range k.GetEquivalences() {
		if len(eq.GetColumns()) < 2 {
			return nil, invalidf("Join equivalence %d: needs at least two columns", i)
		}
		var first joinCol
		var firstType Type
		seen := map[joinCol]bool{}
		for j, jc := range eq.GetColumns() {
			if int64(jc.GetInput()) >= int64(len(n.inputs)) {
				return nil, invalidf("Join equivalence %d: column %d names input %d, the join has %d inputs", i, j, jc.GetInput(), len(n.inputs))
			}
			inSchema := n.inputs[jc.GetInput()].schema
			col, err := resolveColumn(jc.GetColumn(), inSchema)
			if err != nil {
				return nil, fmt.Errorf("Join equivalence %d, input %d: %w", i, jc.GetInput(), err)
			}
			x := joinCol{int(jc.GetInput()), col}
			if seen[x] {
				return nil, invalidf("Join equivalence %d: input %d column %s is listed twice", i, x.input, inSchema.columnName(col))
			}
			seen[x] = true
			typ := inSchema[col].Type
			if j == 0 {
				first, firstType = x, typ
				find(x)
				continue
			}
			if typ != firstType {
				return nil, invalidf("Join equivalence %d: type mismatch: input %d column %s is %s, input %d column %s is %s",
					i, x.input, inSchema.columnName(col), typ, first.input, n.inputs[first.input].schema.columnName(first.col), firstType)
			}
			parent[find(x)] = find(first)
		}
	}
	groups := map[joinCol][]joinCol{}
	for x := range parent {
		r := find(x)
		groups[r] = append(groups[r], x)
	}
	for _, g := range groups {
		sortJoinCols(g)
		spec.classes = append(spec.classes, g)
	}
	sortClasses(spec.classes)
	spec.filters = make([][][2]int, len(n.inputs))
	spec.steps = make([]joinStep, len(n.inputs)-1)
	for _, class := range spec.classes {
		// Within one input, every member must equal the first member of
		// that input.
		firstOf := map[int]int{}
		for _, x := range class {
			if f, ok := firstOf[x.input]; ok {
				spec.filters[x.input] = append(spec.filters[x.input], [2]int{f, x.col})
			} else {
				firstOf[x.input] = x.col
			}
		}
		// Across inputs: input k joins the prefix on (earliest member, k's first member).
		earliest := class[0]
		for input, col := range firstOf {
			if input == earliest.input {
				continue
			}
			st := &spec.steps[input-1]
			st.prefixKey = append(st.prefixKey, spec.offsets[earliest.input]+earliest.col)
			st.inputKey = append(st.inputKey, col)
		}
	}
	n.join = spec
	return n, nil
}

func sortJoinCols(g []joinCol) {
	for i := 1; i < len(g); i++ {
		for j := i; j > 0 && (g[j].input < g[j-1].input || (g[j].input == g[j-1].input && g[j].col < g[j-1].col)); j-- {
			g[j], g[j-1] = g[j-1], g[j]
		}
	}
}

func sortClasses(cs [][]joinCol) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j][0].input < cs[j-1][0].input || (cs[j][0].input == cs[j-1][0].input && cs[j][0].col < cs[j-1][0].col)); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}
