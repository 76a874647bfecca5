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
	groups map[uint64][]*groupState
}

// groupState is what an accumulable Reduce knows about one group.
type groupState struct {
	key      Row
	total    int64 // sum of the multiplicities of the group's rows
	negative int64 // rows with a negative multiplicity
	accs     []accum
	touched  bool
	// the output currently emitted for the group: a row, an error, or none
	out    Row
	outErr string
}

func newAccumReduceOp(n *node) *accumReduceOp {
	return &accumReduceOp{key: n.groupKey, aggs: n.aggs, input: NewArrangement(), groups: map[uint64][]*groupState{}}
}

func (o *accumReduceOp) compact(t timely.Timestamp) { o.input.advanceSince(t) }

// group returns the state of the group of row, creating it if needed.
func (o *accumReduceOp) group(row Row) *groupState {
	h := row.hashCols(o.key)
	for _, g := range o.groups[h] {
		if row.equalCols(o.key, g.key) {
			return g
		}
	}
	g := &groupState{key: row.project(o.key), accs: make([]accum, len(o.aggs))}
	for i := range g.accs {
		g.accs[i].finite = true
	}
	o.groups[h] = append(o.groups[h], g)
	return g
}

func (o *accumReduceOp) drop(g *groupState) {
	h := g.key.Hash()
	list := o.groups[h]
	for i, x := range list {
		if x == g {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(o.groups, h)
	} else {
		o.groups[h] = list
	}
}

func (o *accumReduceOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	out := batch{errs: append([]errDiff(nil), in[0].errs...)}
	var touched []*groupState
	for _, r := range in[0].rows {
		g := o.group(r.row)
		before, after := o.input.updateMult(g.key, r.row, t, r.diff)
		switch {
		case before >= 0 && after < 0:
			g.negative++
		case before < 0 && after >= 0:
			g.negative--
		}
		g.total += r.diff
		for i, a := range o.aggs {
			g.accs[i].add(a, r.row, r.diff)
		}
		if !g.touched {
			g.touched = true
			touched = append(touched, g)
		}
	}
	for _, g := range touched {
		g.touched = false
		var row Row
		var msg string
		switch {
		case g.negative > 0:
			msg = negativeGroupError(g.key)
		case g.total != 0:
			row = make(Row, 0, len(g.key)+len(o.aggs))
			row = append(row, g.key...)
			for i, a := range o.aggs {
				d, err := g.accs[i].finish(a)
				if err != "" {
					row, msg = nil, "Reduce: group "+g.key.String()+": "+err
					break
				}
				row = append(row, d)
			}
		}
		if g.outErr != msg || (msg == "" && !rowsEqual(g.out, row)) {
			if g.outErr != "" {
				out.errs = append(out.errs, errDiff{err: g.outErr, diff: -1})
			} else if g.out != nil {
				out.rows = append(out.rows, rowDiff{row: g.out, diff: -1})
			}
			if msg != "" {
				out.errs = append(out.errs, errDiff{err: msg, diff: 1})
			} else if row != nil {
				out.rows = append(out.rows, rowDiff{row: row, diff: 1})
			}
			g.out, g.outErr = row, msg
		}
		if g.total == 0 && g.negative == 0 {
			o.drop(g) // the group is empty
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
