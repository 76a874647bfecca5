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
func Consolidate(us []Update) []Update {
	return consolidate(us, func(a, b Update) int {
		if c := cmp.Compare(a.Time, b.Time); c != 0 {
			return c
		}
		return a.Row.Compare(b.Row)
	}, func(x *Update) *int64 { return &x.Diff })
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
