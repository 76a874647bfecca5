package dataflow

import (
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// Collection is the contents of a collection at one time: rows with
// multiplicities and errors with multiplicities, both consolidated.
type Collection struct {
	Rows   []Row
	Diffs  []int64
	Errors map[string]int64
}

// Evaluate computes the plan's output from scratch over the given contents
// of its sources (rows with multiplicities; times are ignored; a missing
// source is empty). It is the reference the incremental Dataflow is tested
// against, and the baseline of the benchmarks. A source the plan does not
// read is ErrUnknownSource; a row that does not match its source's schema
// is ErrInvalidRow. Temporal filters are evaluated at the latest time of the
// updates given (0 when there are none); EvaluateAt names the time.
func Evaluate(plan *Plan, sources map[timely.GlobalId][]Update) (Collection, error) {
	var at timely.Timestamp
	for _, us := range sources {
		for _, u := range us {
			at = max(at, u.Time)
		}
	}
	return EvaluateAt(plan, sources, at)
}

// EvaluateAt is Evaluate with the query time of temporal filters given: the
// output of the plan read at time at, over the sources' contents at that
// time.
func EvaluateAt(plan *Plan, sources map[timely.GlobalId][]Update, at timely.Timestamp) (Collection, error) {
	schemas := map[timely.GlobalId]Schema{}
	for _, id := range plan.sources {
		schemas[id] = sourceSchema(plan.root, id)
	}
	in := map[timely.GlobalId][]rowDiff{}
	for id, us := range sources {
		schema, ok := schemas[id]
		if !ok {
			return Collection{}, fmt.Errorf("%w: evaluate: the plan does not read %s", ErrUnknownSource, id)
		}
		rows := make([]rowDiff, len(us))
		for i, u := range us {
			if err := schema.Validate(u.Row); err != nil {
				return Collection{}, fmt.Errorf("evaluate: update %d of %s: %w", i, id, err)
			}
			rows[i] = rowDiff{row: u.Row, diff: u.Diff}
		}
		in[id] = consolidateRows(rows)
	}
	rows, errs := evaluate(plan.root, in, at)
	c := Collection{Errors: map[string]int64{}}
	for _, r := range consolidateRows(rows) {
		c.Rows = append(c.Rows, r.row)
		c.Diffs = append(c.Diffs, r.diff)
	}
	for _, e := range consolidateErrs(errs) {
		c.Errors[e.err] = e.diff
	}
	return c, nil
}

// evaluate is the from-scratch semantics of each operator. It shares only
// the per-group functions (reduceGroup, topKGroup) with the incremental
// operators.
func evaluate(n *node, sources map[timely.GlobalId][]rowDiff, at timely.Timestamp) ([]rowDiff, []errDiff) {
	var ins [][]rowDiff
	var errs []errDiff
	for _, c := range n.inputs {
		rows, es := evaluate(c, sources, at)
		ins = append(ins, consolidateRows(rows))
		errs = append(errs, es...)
	}
	var out []rowDiff
	switch n.kind {
	case kindGet:
		out = append(out, sources[n.source]...)
	case kindConstant:
		out = append(out, n.constRows...)
	case kindFilter:
		for _, r := range ins[0] {
			ok, err := filterRow(n.exprs, r.row)
			if err != nil {
				errs = append(errs, errDiff{err: err.Error(), diff: r.diff})
			} else if ok {
				out = append(out, r)
			}
		}
	case kindMap:
		for _, r := range ins[0] {
			row, err := mapRow(n.exprs, r.row)
			if err != nil {
				errs = append(errs, errDiff{err: err.Error(), diff: r.diff})
			} else {
				out = append(out, rowDiff{row: row, diff: r.diff})
			}
		}
	case kindProject:
		for _, r := range ins[0] {
			out = append(out, rowDiff{row: r.row.project(n.cols), diff: r.diff})
		}
	case kindNegate:
		for _, r := range ins[0] {
			out = append(out, rowDiff{row: r.row, diff: -r.diff})
		}
	case kindUnion:
		for _, in := range ins {
			out = append(out, in...)
		}
	case kindArrangeBy:
		out = ins[0]
	case kindTemporalFilter:
		for _, r := range ins[0] {
			from, until, hasUntil, ok, err := validity(n.validFrom, n.validTo, r.row)
			switch {
			case err != nil:
				errs = append(errs, errDiff{err: err.Error(), diff: r.diff})
			case ok && from <= at && (!hasUntil || at < until):
				out = append(out, r)
			}
		}
	case kindDistinct:
		for _, r := range ins[0] {
			if r.diff > 0 {
				out = append(out, rowDiff{row: r.row, diff: 1})
			} else {
				errs = append(errs, errDiff{err: distinctError(r.row), diff: 1})
			}
		}
	case kindReduce:
		for _, g := range groupByKey(ins[0], n.groupKey) {
			row, msg := reduceGroup(g.key, n.aggs, consolidateRows(slices.Clone(g.rows)))
			if msg != "" {
				errs = append(errs, errDiff{err: msg, diff: 1})
			} else if row != nil {
				out = append(out, rowDiff{row: row, diff: 1})
			}
		}
	case kindTopK:
		for _, g := range groupByKey(ins[0], n.groupKey) {
			window, msg := topKGroup(g.key, n.order, n.limit, n.offset, consolidateRows(slices.Clone(g.rows)))
			if msg != "" {
				errs = append(errs, errDiff{err: msg, diff: 1})
			}
			out = append(out, window...)
		}
	case kindJoin:
		out = evaluateJoin(n.join, ins)
	}
	return out, errs
}

// evaluateJoin extends partial tuples one input at a time. Candidates for
// input k come from a hash index of k's rows on the columns it shares with
// earlier inputs (a cross product when there are none); every equivalence
// class whose members are then all bound is checked in full.
func evaluateJoin(spec *joinSpec, ins [][]rowDiff) []rowDiff {
	partial := []rowDiff{{row: Row{}, diff: 1}}
	for k, in := range ins {
		var prefixCols, inputCols []int
		for _, class := range spec.classes {
			pi, ii := -1, -1
			for _, m := range class {
				if m.input < k && pi < 0 {
					pi = spec.offsets[m.input] + m.col
				}
				if m.input == k && ii < 0 {
					ii = m.col
				}
			}
			if pi >= 0 && ii >= 0 {
				prefixCols = append(prefixCols, pi)
				inputCols = append(inputCols, ii)
			}
		}
		index := map[uint64][]rowDiff{}
		for _, r := range in {
			key := r.row.project(inputCols)
			index[key.Hash()] = append(index[key.Hash()], r)
		}
		var next []rowDiff
		for _, p := range partial {
			key := p.row.project(prefixCols)
			for _, r := range index[key.Hash()] {
				if !r.row.project(inputCols).Equal(key) {
					continue
				}
				row := concat(p.row, r.row)
				if classesHold(spec, row, k) {
					next = append(next, rowDiff{row: row, diff: p.diff * r.diff})
				}
			}
		}
		partial = next
	}
	return partial
}

// classesHold checks the classes whose members all lie in inputs 0..k and
// that involve input k.
func classesHold(spec *joinSpec, row Row, k int) bool {
	for _, class := range spec.classes {
		if len(class) < 2 || class[len(class)-1].input != k {
			continue
		}
		first := row[spec.offsets[class[0].input]+class[0].col]
		if first.IsNull() {
			return false
		}
		for _, m := range class[1:] {
			d := row[spec.offsets[m.input]+m.col]
			if d.IsNull() || !d.Equal(first) {
				return false
			}
		}
	}
	return true
}
