package dataflow

import (
	"cmp"
	"slices"
	"strings"
)

// consolidate sorts xs by cmp and sums the diffs of elements that compare
// equal, dropping those whose diffs sum to zero. It reuses the slice. A
// slice already in order (most operators emit sorted batches) is not sorted
// again: checking costs one comparison per element, and an unsorted slice
// usually fails the check within its first few elements.
func consolidate[T any](xs []T, cmp func(a, b T) int, diff func(x *T) *int64) []T {
	if !slices.IsSortedFunc(xs, cmp) {
		slices.SortFunc(xs, cmp)
	}
	out := xs[:0] // out never gets ahead of i, so it overwrites only read elements
	for i := range xs {
		x := &xs[i]
		if n := len(out); n > 0 && cmp(out[n-1], *x) == 0 {
			*diff(&out[n-1]) += *diff(x)
			continue
		}
		if n := len(out); n > 0 && *diff(&out[n-1]) == 0 {
			out[n-1] = *x
			continue
		}
		out = append(out, *x)
	}
	if n := len(out); n > 0 && *diff(&out[n-1]) == 0 {
		out = out[:n-1]
	}
	var zero T
	for i := len(out); i < len(xs); i++ {
		xs[i] = zero // release rows for the collector
	}
	return out
}

// consolidateRows consolidates rows with multiplicities, in row order.
func consolidateRows(rs []rowDiff) []rowDiff {
	return consolidate(rs, func(a, b rowDiff) int { return a.row.Compare(b.row) }, func(x *rowDiff) *int64 { return &x.diff })
}

// Consolidate sorts updates by time then row and sums the diffs of equal
// (row, time) pairs, dropping those that sum to zero. It reuses the slice.
// Updates already in time order (a dataflow's output is) are sorted by row
// one time at a time, with abbreviated keys (updateSorter).
func Consolidate(us []Update) []Update { return consolidateUpdates(us, nil) }

// consolidateUpdates is Consolidate with buffers to reuse (or nil).
func consolidateUpdates(us []Update, s *updateSorter) []Update {
	if len(us) >= 64 && slices.IsSortedFunc(us, byTime) {
		if s == nil {
			s = &updateSorter{}
		}
		for i := 0; i < len(us); {
			j := i + 1
			for j < len(us) && us[j].Time == us[i].Time {
				j++
			}
			s.sort(us[i:j])
			i = j
		}
	}
	return consolidate(us, func(a, b Update) int {
		if c := cmp.Compare(a.Time, b.Time); c != 0 {
			return c
		}
		return a.Row.Compare(b.Row)
	}, func(x *Update) *int64 { return &x.Diff })
}

// updateSorter sorts updates by row: it radix sorts the rows' first
// column, abbreviated (see abbrev), then sorts each run of equal
// abbreviations by row; rows with a null or no first column come first, by
// row. Rows whose first columns differ in type (not possible in one
// collection) are sorted by Row.Compare alone. Its buffers are kept from
// call to call (a dataflow keeps one for TakeOutput).
type updateSorter struct {
	keyed, tmp []abbreviated
	out        []Update
}

func (s *updateSorter) sort(us []Update) {
	byRow := func(a, b Update) int { return a.Row.Compare(b.Row) }
	if len(us) < 64 || slices.IsSortedFunc(us, byRow) {
		if len(us) < 64 {
			slices.SortFunc(us, byRow)
		}
		return
	}
	out := s.out[:0] // the rows with a null or no first column, then the rest
	keyed := s.keyed[:0]
	var typ Type
	for i := range us {
		r := us[i].Row
		if len(r) == 0 || r[0].Type() == 0 {
			out = append(out, us[i])
			continue
		}
		if typ == 0 {
			typ = r[0].Type()
		} else if r[0].Type() != typ {
			clear(out)
			slices.SortFunc(us, byRow)
			return
		}
		keyed = append(keyed, abbreviated{ab: abbrev(r[0]), i: int32(i)})
	}
	slices.SortFunc(out, byRow)
	if cap(s.tmp) < len(keyed) {
		s.tmp = make([]abbreviated, len(keyed))
	}
	radixSort(keyed, s.tmp[:len(keyed)])
	cmpKeyed := func(a, b abbreviated) int {
		if a.ab != b.ab {
			return cmp.Compare(a.ab, b.ab)
		}
		return us[a.i].Row.Compare(us[b.i].Row)
	}
	for i := 0; i < len(keyed); {
		j := i + 1
		for j < len(keyed) && keyed[j].ab == keyed[i].ab {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(keyed[i:j], cmpKeyed)
		}
		i = j
	}
	for _, k := range keyed {
		out = append(out, us[k.i])
	}
	copy(us, out)
	clear(out) // release the rows
	s.out, s.keyed = out[:0], keyed[:0]
	if cap(out) > maxKeptBuffer { // keep buffers for ordinary batches, not a backfill's
		s.out, s.keyed, s.tmp = nil, nil, nil
	}
}

// ConsolidateErrors is Consolidate for error updates: by time, then message.
func ConsolidateErrors(us []ErrorUpdate) []ErrorUpdate {
	return consolidate(us, func(a, b ErrorUpdate) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), strings.Compare(a.Err, b.Err))
	}, func(x *ErrorUpdate) *int64 { return &x.Diff })
}

// errDiff is an error message with a multiplicity, at an implied time.
type errDiff struct {
	err  string
	diff int64
}

// consolidateErrs consolidates error messages with multiplicities.
func consolidateErrs(es []errDiff) []errDiff {
	return consolidate(es, func(a, b errDiff) int { return strings.Compare(a.err, b.err) },
		func(x *errDiff) *int64 { return &x.diff })
}
