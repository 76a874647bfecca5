package dataflow

import (
	"strings"

	"github.com/arbor-db/arbor/timely"
)

// Row is an ordered list of datums matching some schema. Rows are treated as
// immutable once built: operators share them between collections and never
// write into a row they did not allocate.
type Row []Datum

// Compare orders rows lexicographically by datum (see Datum.Compare); a
// shorter row that is a prefix of a longer one sorts first.
func (r Row) Compare(s Row) int {
	n := min(len(r), len(s))
	for i := 0; i < n; i++ {
		a, b := &r[i], &s[i]
		if a.p == nil && b.p == nil {
			// The common case, without the call and the type switch: two
			// int64s (or nulls, whose word 0 orders them first), whose
			// words order like their values.
			if a.w != b.w {
				if a.w < b.w {
					return -1
				}
				return 1
			}
			continue
		}
		if c := a.Compare(*b); c != 0 {
			return c
		}
	}
	switch {
	case len(r) < len(s):
		return -1
	case len(r) > len(s):
		return 1
	}
	return 0
}

// Equal reports whether the rows have the same length and equal datums.
func (r Row) Equal(s Row) bool {
	if len(r) != len(s) {
		return false
	}
	for i := range r {
		a, b := &r[i], &s[i]
		if a.p == b.p && a.w == b.w {
			continue // same words: equal (the common case)
		}
		if !a.Equal(*b) {
			return false
		}
	}
	return true
}

// Hash returns a hash consistent with Equal: equal rows hash equally. It is
// deterministic across processes.
func (r Row) Hash() uint64 {
	h := uint64(fnvOffset)
	for _, d := range r {
		h = d.hash(h)
	}
	return h
}

// hashCols is Hash of r.project(cols), without building that row.
func (r Row) hashCols(cols []int) uint64 {
	h := uint64(fnvOffset)
	for _, c := range cols {
		h = r[c].hash(h)
	}
	return h
}

// equalCols reports whether r.project(cols) equals key, without building
// that row.
func (r Row) equalCols(cols []int, key Row) bool {
	if len(cols) != len(key) {
		return false
	}
	for i, c := range cols {
		a, b := &r[c], &key[i]
		if (a.p != b.p || a.w != b.w) && !a.Equal(*b) {
			return false
		}
	}
	return true
}

// sameCols reports whether r and s agree (Equal) on the columns cols.
func (r Row) sameCols(cols []int, s Row) bool {
	for _, c := range cols {
		a, b := &r[c], &s[c]
		if (a.p != b.p || a.w != b.w) && !a.Equal(*b) {
			return false
		}
	}
	return true
}

// String prints the row as (d1, d2, ...).
func (r Row) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range r {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.String())
	}
	b.WriteByte(')')
	return b.String()
}

// project returns a new row holding the given columns of r.
func (r Row) project(cols []int) Row {
	out := make(Row, len(cols))
	for i, c := range cols {
		out[i] = r[c]
	}
	return out
}

// concat returns a new row holding the datums of r then s.
func concat(r, s Row) Row {
	out := make(Row, 0, len(r)+len(s))
	return append(append(out, r...), s...)
}

// Update is one change to a collection: Row's multiplicity changes by Diff
// at Time. A negative Diff is a retraction.
type Update struct {
	Row  Row
	Time timely.Timestamp
	Diff int64
}

// ErrorUpdate is one change to a collection's error stream: the error Err
// (its message) appears Diff times at Time. A collection with errors at a
// time has no well-defined contents at that time; peeks report the error.
type ErrorUpdate struct {
	Err  string
	Time timely.Timestamp
	Diff int64
}
