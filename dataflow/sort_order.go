package dataflow

import (
	"cmp"
	"math"
	"slices"
)

// Sorting a peek's rows by a finishing order (or by row, which is the order
// on column 0 then the whole row) with abbreviated keys: each row carries a
// uint64 that orders like its first order column, so most comparisons are
// one integer comparison and only ties compare the rows (compareBy). Rows
// whose first order column is null are set apart first (they all compare
// equal on it), so the abbreviation needs no room for null.

// abbrev maps a non-null datum to a uint64 that orders like it among datums
// of its type: abbrev(x) < abbrev(y) implies x < y, and x < y implies
// abbrev(x) <= abbrev(y). Strings and bytes keep their first eight bytes.
func abbrev(d Datum) uint64 {
	switch d.typ {
	case TypeInt64:
		return d.bits ^ 1<<63
	case TypeBool, TypeTimestamp:
		return d.bits
	case TypeFloat64:
		f := math.Float64frombits(d.bits)
		switch {
		case f != f: // NaN: after every other float
			return math.MaxUint64
		case f == 0: // -0 equals 0
			return 1 << 63
		case d.bits>>63 == 1:
			return ^d.bits
		}
		return d.bits | 1<<63
	}
	var v uint64
	for i := 0; i < 8; i++ {
		v <<= 8
		if i < len(d.str) {
			v |= uint64(d.str[i])
		}
	}
	return v
}

// abbreviated is a row with the abbreviation of its first order column.
type abbreviated struct {
	ab uint64
	rd rowDiff
}

// orderSorter sorts rowDiffs by an order (compareBy).
type orderSorter struct {
	order []orderColumn
}

func (s orderSorter) cmp(a, b abbreviated) int {
	if a.ab != b.ab {
		return cmp.Compare(a.ab, b.ab)
	}
	return compareBy(s.order, a.rd.row, b.rd.row)
}

func (s orderSorter) cmpRows(a, b rowDiff) int { return compareBy(s.order, a.row, b.row) }

// split sets apart the rows whose first order column is null and
// abbreviates the others. It returns false when the column holds datums of
// more than one type (not possible for rows of one schema), which the
// abbreviation cannot order; the caller then sorts by compareBy alone.
func (s orderSorter) split(rds []rowDiff) (nulls []rowDiff, keyed []abbreviated, ok bool) {
	o := s.order[0]
	var typ Type
	keyed = make([]abbreviated, 0, len(rds))
	for _, rd := range rds {
		d := rd.row[o.col]
		if d.typ == 0 {
			nulls = append(nulls, rd)
			continue
		}
		if typ == 0 {
			typ = d.typ
		} else if d.typ != typ {
			return nil, nil, false
		}
		ab := abbrev(d)
		if o.desc {
			ab = ^ab
		}
		keyed = append(keyed, abbreviated{ab: ab, rd: rd})
	}
	return nulls, keyed, true
}

// join writes nulls and keyed back into rds in the order's place for nulls.
func (s orderSorter) join(rds, nulls []rowDiff, keyed []abbreviated) {
	i := 0
	if !s.order[0].nullsLast {
		i += copy(rds, nulls)
	}
	for _, k := range keyed {
		rds[i] = k.rd
		i++
	}
	if s.order[0].nullsLast {
		copy(rds[i:], nulls)
	}
}

// sortRowDiffs sorts rds by order (then by row). An empty order, or rows
// of no columns, leave rds as they are.
func sortRowDiffs(rds []rowDiff, order []orderColumn) {
	if len(order) == 0 || len(rds) < 2 {
		return
	}
	s := orderSorter{order: order}
	nulls, keyed, ok := s.split(rds)
	if !ok {
		slices.SortFunc(rds, s.cmpRows)
		return
	}
	slices.SortFunc(nulls, s.cmpRows)
	slices.SortFunc(keyed, s.cmp)
	s.join(rds, nulls, keyed)
}

// firstRowDiffs returns the rows of rds that hold the first k copies in
// the order (all of the last row's copies, even past k), sorted by the
// order. For k much smaller than len(rds) it keeps a heap of the best k
// rather than sorting everything. rds may be reordered.
func firstRowDiffs(rds []rowDiff, order []orderColumn, k int64) []rowDiff {
	if len(order) == 0 || int64(len(rds)) <= 4*k || len(rds) < 64 {
		sortRowDiffs(rds, order)
		return rds
	}
	s := orderSorter{order: order}
	if k <= 0 {
		return rds[:0]
	}
	nulls, keyed, ok := s.split(rds)
	if !ok {
		slices.SortFunc(rds, s.cmpRows)
		return rds
	}
	// Nulls first: if they hold k copies nothing else is needed; else the
	// others need to hold only the rest.
	want := k
	if !order[0].nullsLast && len(nulls) > 0 {
		slices.SortFunc(nulls, s.cmpRows)
		if n := countPrefix(nulls, k); n < len(nulls) || sumDiffs(nulls) >= k {
			out := rds[:0]
			return append(out, nulls[:n]...)
		}
		want = k - sumDiffs(nulls)
	}
	// A max-heap (worst on top) of the best rows so far, holding at least
	// want copies and no row it could do without.
	h := make([]abbreviated, 0, min(int64(len(keyed)), want)+1)
	var total int64
	for _, x := range keyed {
		if total >= want && s.cmp(x, h[0]) >= 0 {
			continue
		}
		h = append(h, x)
		abbrevUp(h, len(h)-1, s.cmp)
		total += x.rd.diff
		for total-h[0].rd.diff >= want {
			total -= h[0].rd.diff
			last := len(h) - 1
			h[0] = h[last]
			h = h[:last]
			abbrevDown(h, 0, s.cmp)
		}
	}
	slices.SortFunc(h, s.cmp)
	out := rds[:0]
	if !order[0].nullsLast {
		out = append(out, nulls...) // fewer than k copies
	}
	for _, x := range h {
		out = append(out, x.rd)
	}
	if order[0].nullsLast && total < k {
		slices.SortFunc(nulls, s.cmpRows)
		out = append(out, nulls[:countPrefix(nulls, k-total)]...)
	}
	return out
}

// countPrefix returns how many rows of rds hold the first k copies.
func countPrefix(rds []rowDiff, k int64) int {
	var n int64
	for i, rd := range rds {
		if n >= k {
			return i
		}
		n += rd.diff
	}
	return len(rds)
}

func sumDiffs(rds []rowDiff) int64 {
	var n int64
	for _, rd := range rds {
		n += rd.diff
	}
	return n
}

// abbrevUp and abbrevDown keep h a max-heap under c.
func abbrevUp(h []abbreviated, i int, c func(a, b abbreviated) int) {
	for i > 0 {
		p := (i - 1) / 2
		if c(h[p], h[i]) >= 0 {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func abbrevDown(h []abbreviated, i int, c func(a, b abbreviated) int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && c(h[r], h[l]) > 0 {
			m = r
		}
		if c(h[i], h[m]) >= 0 {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
