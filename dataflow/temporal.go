package dataflow

import (
	"github.com/arbor-db/arbor/timely"
)

// validity evaluates a temporal filter's bounds on a row: the row is in
// the output while the query time is in [from, until) (hasUntil false: no
// end). ok is false when a bound is NULL: the row is never valid.
func validity(fromE, untilE *Expr, row Row) (from, until timely.Timestamp, hasUntil, ok bool, err error) {
	if fromE != nil {
		d, err := fromE.Eval(row)
		if err != nil || d.IsNull() {
			return 0, 0, false, false, err
		}
		from = d.AsTimestamp()
	}
	if untilE != nil {
		d, err := untilE.Eval(row)
		if err != nil || d.IsNull() {
			return 0, 0, false, false, err
		}
		until, hasUntil = d.AsTimestamp(), true
	}
	return from, until, hasUntil, true, nil
}

// temporalFilterOp is the incremental TemporalFilter: an update of a row
// at t becomes the same update at max(t, from), and its negation at until.
// The updates due after t wait in scheduled until the dataflow processes
// their time; NextScheduled tells the dataflow which time that is.
type temporalFilterOp struct {
	stateless
	from, until *Expr
	scheduled   map[timely.Timestamp][]rowDiff
	times       []timely.Timestamp // the keys of scheduled, as a min-heap
}

func newTemporalFilterOp(n *node) *temporalFilterOp {
	return &temporalFilterOp{from: n.validFrom, until: n.validTo, scheduled: map[timely.Timestamp][]rowDiff{}}
}

func (o *temporalFilterOp) schedule(t timely.Timestamp, r rowDiff) {
	us, ok := o.scheduled[t]
	if !ok {
		o.times = append(o.times, t)
		heapUp(o.times, len(o.times)-1)
	}
	o.scheduled[t] = append(us, r)
}

// next returns the earliest time with scheduled updates.
func (o *temporalFilterOp) next() (timely.Timestamp, bool) {
	if len(o.times) == 0 {
		return 0, false
	}
	return o.times[0], true
}

// pending counts the scheduled updates.
func (o *temporalFilterOp) pending() int {
	n := 0
	for _, us := range o.scheduled {
		n += len(us)
	}
	return n
}

func (o *temporalFilterOp) step(t timely.Timestamp, in []batch) batch {
	out := batch{errs: in[0].errs}
	if len(o.times) > 0 && o.times[0] == t {
		out.rows = append(out.rows, o.scheduled[t]...)
		delete(o.scheduled, t)
		o.times[0] = o.times[len(o.times)-1]
		o.times = o.times[:len(o.times)-1]
		heapDown(o.times, 0)
	}
	for _, r := range in[0].rows {
		from, until, hasUntil, ok, err := validity(o.from, o.until, r.row)
		switch {
		case err != nil:
			out.errs = append(out.errs, errDiff{err: err.Error(), diff: r.diff})
			continue
		case !ok:
			continue
		}
		start := max(t, from)
		if hasUntil && until <= start {
			continue // never valid from now on
		}
		if start == t {
			out.rows = append(out.rows, r)
		} else {
			o.schedule(start, r)
		}
		if hasUntil {
			o.schedule(until, rowDiff{row: r.row, diff: -r.diff})
		}
	}
	out.errs = consolidateErrs(out.errs)
	return out
}

func heapUp(h []timely.Timestamp, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p] <= h[i] {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func heapDown(h []timely.Timestamp, i int) {
	for {
		l, m := 2*i+1, i
		if l < len(h) && h[l] < h[m] {
			m = l
		}
		if r := l + 1; r < len(h) && h[r] < h[m] {
			m = r
		}
		if m == i {
			return
		}
		h[m], h[i] = h[i], h[m]
		i = m
	}
}
