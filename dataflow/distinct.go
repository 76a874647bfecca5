package dataflow

import "github.com/arbor-db/arbor/timely"

// distinctOp keeps each row with a positive multiplicity once. It arranges
// its input by the whole row. A row whose multiplicity goes negative (only
// possible downstream of a Negate) becomes an error until it recovers.
type distinctOp struct {
	state *Arrangement
}

func newDistinctOp() *distinctOp { return &distinctOp{state: NewArrangement()} }

func (o *distinctOp) compact(t timely.Timestamp) { o.state.advanceSince(t) }

func distinctError(row Row) string {
	return "Distinct: row " + row.String() + " has a negative multiplicity"
}

func (o *distinctOp) step(t timely.Timestamp, in []batch) batch {
	o.compact(t)
	out := batch{errs: append([]errDiff(nil), in[0].errs...)}
	for _, r := range in[0].rows {
		// The row is its own key with the one value nil, so the value's
		// multiplicity is the row's.
		old, now := o.state.updateMult(wholeKey(r.row), nil, t, r.diff)
		if d := sign(now) - sign(old); d != 0 {
			if old > 0 {
				out.rows = append(out.rows, rowDiff{row: r.row, diff: -1})
			} else if old < 0 {
				out.errs = append(out.errs, errDiff{err: distinctError(r.row), diff: -1})
			}
			if now > 0 {
				out.rows = append(out.rows, rowDiff{row: r.row, diff: 1})
			} else if now < 0 {
				out.errs = append(out.errs, errDiff{err: distinctError(r.row), diff: 1})
			}
		}
	}
	out.errs = consolidateErrs(out.errs)
	return out
}

func sign(v int64) int64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
