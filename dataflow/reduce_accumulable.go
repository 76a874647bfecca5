package dataflow

import "github.com/arbor-db/arbor/timely"

// accumReduceOp is the Reduce of counts and integer sums and averages. It
// keeps per group the accumulators and the number of rows whose
// multiplicity is negative, so an update costs O(log group size) instead of
// a pass over its group. The input arrangement (group key -> rows) is what
// tells it when a row's multiplicity crosses zero.
type accumReduceOp struct {
	key    []int
	aggs   []aggregate
	input  *Arrangement
	groups *groupTable[accumState]
	// monotonic: the input is append-only, so no multiplicity can turn
	// negative and the input is not arranged; a retraction breaks the
	// operator.
	monotonic bool
	broken    bool
	// nonNegative: the input's multiplicities are never negative by
	// construction (the output of another Reduce, say), so the input is
	// not arranged either.
	nonNegative bool
}

// accumState is what an accumulable Reduce knows about one group.
type accumState struct {
	total    int64 // sum of the multiplicities of the group's rows
	negative int64 // rows with a negative multiplicity
	accs     []accum
	touched  bool
	out      groupOutput // what the group currently shows
}

func newAccumReduceOp(n *node) *accumReduceOp {
	return &accumReduceOp{key: n.groupKey, aggs: n.aggs, input: NewArrangement(), groups: newGroupTable[accumState](),
		monotonic: n.inputs[0].monotonic, nonNegative: n.inputs[0].nonNegative}
}

func (o *accumReduceOp) compact(t timely.Timestamp) { o.input.advanceSince(t) }

func (o *accumReduceOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	out := batch{errs: append([]errDiff(nil), in[0].errs...)}
	rows := in[0].rows
	if o.monotonic {
		var bad Row
		var ok bool
		if rows, bad, ok = insertions(rows); !ok && !o.broken {
			o.broken = true
			out.errs = append(out.errs, errDiff{err: retractionError("Reduce", bad), diff: 1})
		}
		if o.broken {
			out.errs = consolidateErrs(out.errs)
			return out
		}
	}
	var touched []*group[accumState]
	for _, r := range rows {
		k := keyRef{src: r.row, cols: o.key}
		if o.monotonic || o.nonNegative {
			k.hash = keyHash(r.row, o.key) // no arrangement reads the groups' hashes
		} else {
			k.hash = r.row.hashCols(o.key)
		}
		g := o.groups.findOrAdd(k)
		st := &g.state
		if st.accs == nil {
			st.accs = make([]accum, len(o.aggs))
			for i := range st.accs {
				st.accs[i].finite = true
			}
		}
		if !o.monotonic && !o.nonNegative {
			before, after := o.input.updateMult(g.ref(), r.row, t, r.diff)
			switch {
			case before >= 0 && after < 0:
				st.negative++
			case before < 0 && after >= 0:
				st.negative--
			}
		}
		st.total += r.diff
		for i, a := range o.aggs {
			st.accs[i].add(a, r.row, r.diff)
		}
		if !st.touched {
			st.touched = true
			touched = append(touched, g)
		}
	}
	for _, g := range touched {
		st := &g.state
		st.touched = false
		var next groupOutput
		switch {
		case st.negative > 0:
			next.err = negativeGroupError(g.key)
		case st.total != 0:
			row := make(Row, 0, len(g.key)+len(o.aggs))
			row = append(row, g.key...)
			for i, a := range o.aggs {
				d, err := st.accs[i].finish(a)
				if err != "" {
					row, next.err = nil, "Reduce: group "+g.key.String()+": "+err
					break
				}
				row = append(row, d)
			}
			next.row = row
		}
		st.out.change(next, &out)
		st.out = next
		if st.total == 0 && st.negative == 0 {
			o.groups.remove(g) // the group is empty
		}
	}
	out.rows = consolidateRows(out.rows)
	out.errs = consolidateErrs(out.errs)
	return out
}

// rowsEqual compares rows where nil (no row) differs from every row.
func rowsEqual(a, b Row) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(b)
}
