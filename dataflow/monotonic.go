package dataflow

// Monotonic (append-only) collections.
//
// A plan may declare a source append-only (GetPlan.append_only): it only
// ever receives insertions, as an event stream does. markMonotonic derives
// from those declarations which collections of the plan only ever gain
// rows, the way Materialize's monotonicity analysis does, and the
// operators reading a monotonic input keep less state:
//
//   - TopK with a limit keeps per group only the rows that reach the end of
//     its window, not the group (topk_monotonic.go);
//   - Reduce keeps per group its output (min and max) or its accumulators
//     (count, sum, avg), not the group's rows;
//   - a Join stage appends a monotonic side's rows to an append-only index
//     instead of arranging them by time.
//
// The declaration is a promise the plan makes, not something the engine
// can check at compile time. A retraction that breaks it and reaches one
// of these operators (a source update with a negative diff that nothing
// cancels at its time) cannot be answered correctly, since the rows it
// would need are gone: the operator puts an evaluation error in its error
// stream at that time and keeps it there, so every later read of the
// collection fails with ErrEval instead of returning a wrong answer. Before
// that time the results stand.

// markMonotonic sets node.monotonic on every node of the tree whose
// collection only gains rows: a Get of an append-only source, a Constant
// without negative multiplicities, Filter, Map, Project, ArrangeBy and
// Union of monotonic inputs, a Join of monotonic inputs (products of
// positive multiplicities are positive), and a TemporalFilter without an
// upper bound over a monotonic input (rows only appear). Reduce, TopK,
// Distinct and Negate retract rows, so their outputs are not monotonic.
//
// It also sets node.nonNegative on the collections whose multiplicities are
// never negative by construction, without relying on any declaration: the
// outputs of Reduce, TopK and Distinct (each shows a row at most once), a
// Constant without negative multiplicities, and Filter, Map, Project,
// ArrangeBy, TemporalFilter, Union and Join of such collections. A Reduce
// of counts, integer sums and averages over such an input needs no
// arrangement to notice negative multiplicities: there are none.
func markMonotonic(n *node) {
	for _, in := range n.inputs {
		markMonotonic(in)
	}
	switch n.kind {
	case kindReduce, kindTopK, kindDistinct:
		n.nonNegative = true
	case kindConstant:
		n.nonNegative = true
		for _, r := range n.constRows {
			n.nonNegative = n.nonNegative && r.diff > 0
		}
	case kindFilter, kindMap, kindProject, kindArrangeBy, kindUnion, kindJoin, kindTemporalFilter:
		n.nonNegative = true
		for _, in := range n.inputs {
			n.nonNegative = n.nonNegative && in.nonNegative
		}
	}
	switch n.kind {
	case kindGet:
		// set from the wire by the compiler
	case kindConstant:
		n.monotonic = true
		for _, r := range n.constRows {
			n.monotonic = n.monotonic && r.diff > 0
		}
	case kindFilter, kindMap, kindProject, kindArrangeBy, kindUnion, kindJoin:
		n.monotonic = true
		for _, in := range n.inputs {
			n.monotonic = n.monotonic && in.monotonic
		}
	case kindTemporalFilter:
		n.monotonic = n.validTo == nil && n.inputs[0].monotonic
	default:
		n.monotonic = false
	}
}

// retractionError is the error an operator that relies on an append-only
// input reports when a retraction reaches it anyway.
func retractionError(op string, row Row) string {
	return op + ": the input is append-only but received a retraction of " + row.String()
}

// insertions returns rows when every diff is positive. Otherwise it
// consolidates a copy (a row inserted and retracted at one time is no
// retraction) and returns it with ok set when no negative diff remains, or
// the first row whose diff stays negative.
func insertions(rows []rowDiff) (out []rowDiff, bad Row, ok bool) {
	if allInsertions(rows) {
		return rows, nil, true
	}
	out = consolidateRows(append([]rowDiff(nil), rows...))
	for _, r := range out {
		if r.diff < 0 {
			return nil, r.row, false
		}
	}
	return out, nil, true
}
