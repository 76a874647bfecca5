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
	switch d.Type() {
	case TypeInt64:
		return d.word() ^ 1<<63
	case TypeBool, TypeTimestamp:
		return d.word()
	case TypeFloat64:
		f := math.Float64frombits(d.word())
		switch {
		case f != f: // NaN: after every other float
			return math.MaxUint64
		case f == 0: // -0 equals 0
			return 1 << 63
		case d.word()>>63 == 1:
			return ^d.word()
		}
		return d.word() | 1<<63
	}
	var v uint64
	s := d.AsString()
	for i := 0; i < 8; i++ {
		v <<= 8
		if i < len(s) {
			v |= uint64(s[i])
		}
	}
	return v
}

// abbreviated is the abbreviation of a row's first order column and the
// row's index: 16 bytes to move while sorting, not the row.
type abbreviated struct {
	ab uint64
	i  int32
}

// orderSorter puts rows in an order (compareBy). It abbreviates every row
// in one tight loop over the rows, which touches each row's first order
// column once and lets the processor overlap those (mostly cache-missing)
// reads.
type orderSorter struct {
	order []orderColumn
	rds   []rowDiff     // every row, in the order given
	nulls []rowDiff     // the rows whose first order column is null
	keyed []abbreviated // the others
	// mixed: the first order column holds datums of several types (not
	// possible for rows of one schema), which abbreviations cannot order;
	// then keyed holds every row with abbreviation 0 and nulls none, so
	// compareBy alone decides.
	mixed bool
}

// newOrderSorter returns a sorter of rds, which it keeps (and does not
// modify): the caller must not modify rds while it uses the sorter.
func newOrderSorter(order []orderColumn, rds []rowDiff) *orderSorter {
	s := &orderSorter{order: order, rds: rds, keyed: make([]abbreviated, 0, len(rds))}
	o := order[0]
	var typ Type // of the first order column's non-null datums
	for i := range rds {
		if t := rds[i].row[o.col].Type(); t != 0 {
			typ = t
			break
		}
	}
	var flip uint64
	if o.desc {
		flip = math.MaxUint64
	}
	keyed := s.keyed
	for i := range rds {
		d := &rds[i].row[o.col]
		switch {
		case d.isInt() && typ == TypeInt64: // the common case, inline
			keyed = append(keyed, abbreviated{ab: d.w ^ flip, i: int32(i)}) // an int64's word is its abbreviation
		case d.Type() == typ:
			keyed = append(keyed, abbreviated{ab: abbrev(*d) ^ flip, i: int32(i)})
		case d.Type() == 0:
			s.nulls = append(s.nulls, rds[i])
		default:
			s.mixed, s.nulls = true, nil
			keyed = keyed[:0]
			for j := range rds {
				keyed = append(keyed, abbreviated{i: int32(j)})
			}
			s.keyed = keyed
			return s
		}
	}
	s.keyed = keyed
	return s
}

func (s *orderSorter) cmp(a, b abbreviated) int {
	if a.ab != b.ab {
		return cmp.Compare(a.ab, b.ab)
	}
	return compareBy(s.order, s.rds[a.i].row, s.rds[b.i].row)
}

func (s *orderSorter) cmpRows(a, b rowDiff) int { return compareBy(s.order, a.row, b.row) }

// each calls fn for the rows in order (after sort or first) until it
// returns false.
func (s *orderSorter) each(fn func(rd rowDiff) bool) {
	last := s.order[0].nullsLast
	if !last {
		for _, rd := range s.nulls {
			if !fn(rd) {
				return
			}
		}
	}
	for _, k := range s.keyed {
		if !fn(s.rds[k.i]) {
			return
		}
	}
	if last {
		for _, rd := range s.nulls {
			if !fn(rd) {
				return
			}
		}
	}
}

// appendRows appends the rows kept (after sort or first) to out, in order,
// one copy each whatever their multiplicity.
func (s *orderSorter) appendRows(out []Row) []Row {
	last := s.order[0].nullsLast
	if !last {
		for i := range s.nulls {
			out = append(out, s.nulls[i].row)
		}
	}
	rds := s.rds
	for _, k := range s.keyed {
		out = append(out, rds[k.i].row)
	}
	if last {
		for i := range s.nulls {
			out = append(out, s.nulls[i].row)
		}
	}
	return out
}

// sort puts every row in order: the keyed ones by abbreviation with a
// radix sort, then each run of equal abbreviations by the rows.
func (s *orderSorter) sort() {
	slices.SortFunc(s.nulls, s.cmpRows)
	keyed := s.keyed
	if len(keyed) < 256 {
		slices.SortFunc(keyed, s.cmp)
		return
	}
	radixSort(keyed, nil)
	for i := 0; i < len(keyed); {
		j := i + 1
		for j < len(keyed) && keyed[j].ab == keyed[i].ab {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(keyed[i:j], s.cmp)
		}
		i = j
	}
}

// first keeps only the rows holding the first k copies in the order (all
// of the last row's copies, even past k) and puts them in order. For k
// much smaller than the rows it keeps a heap of the best rather than
// sorting everything.
func (s *orderSorter) first(k int64) {
	if int64(len(s.rds)) <= 4*k || len(s.rds) < 64 {
		s.sort()
		return
	}
	if k <= 0 {
		s.nulls, s.keyed = nil, nil
		return
	}
	slices.SortFunc(s.nulls, s.cmpRows)
	// Nulls first: if they hold k copies nothing else is needed; else the
	// others need to hold only the rest.
	want := k
	if !s.order[0].nullsLast && len(s.nulls) > 0 {
		if n := countPrefix(s.nulls, k); n < len(s.nulls) || sumDiffs(s.nulls) >= k {
			s.nulls, s.keyed = s.nulls[:n], nil
			return
		}
		want = k - sumDiffs(s.nulls)
	}
	// A max-heap (worst on top) of the best rows so far, holding at least
	// want copies and no row it could do without.
	rds := s.rds
	h := make([]abbreviated, 0, min(int64(len(s.keyed)), want)+1)
	var total int64
	for _, x := range s.keyed {
		if total >= want && s.cmp(x, h[0]) >= 0 {
			continue
		}
		h = append(h, x)
		abbrevUp(h, len(h)-1, s.cmp)
		total += rds[x.i].diff
		for total-rds[h[0].i].diff >= want {
			total -= rds[h[0].i].diff
			last := len(h) - 1
			h[0] = h[last]
			h = h[:last]
			abbrevDown(h, 0, s.cmp)
		}
	}
	slices.SortFunc(h, s.cmp)
	s.keyed = h
	if s.order[0].nullsLast {
		if total < want {
			s.nulls = s.nulls[:countPrefix(s.nulls, want-total)]
		} else {
			s.nulls = nil
		}
	}
}

// radixSort sorts xs by ab, least significant byte first, skipping the
// bytes in which every element agrees. tmp, if long enough, is used as the
// second buffer; else one is allocated.
func radixSort(xs, tmp []abbreviated) {
	if len(xs) < 2 {
		return
	}
	var counts [8][256]int
	for _, x := range xs {
		for b := 0; b < 8; b++ {
			counts[b][byte(x.ab>>(8*b))]++
		}
	}
	if len(tmp) < len(xs) {
		tmp = make([]abbreviated, len(xs))
	}
	src, dst := xs, tmp[:len(xs)]
	for b := 0; b < 8; b++ {
		c := &counts[b]
		if c[byte(src[0].ab>>(8*b))] == len(src) {
			continue // every element has this byte
		}
		var offs [256]int
		sum := 0
		for v := range c {
			offs[v] = sum
			sum += c[v]
		}
		shift := 8 * b
		for _, x := range src {
			d := byte(x.ab >> shift)
			dst[offs[d]] = x
			offs[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &xs[0] {
		copy(xs, src)
	}
}

// sorted returns the rows kept, in order.
func (s *orderSorter) sorted() []rowDiff {
	out := make([]rowDiff, 0, len(s.nulls)+len(s.keyed))
	s.each(func(rd rowDiff) bool { out = append(out, rd); return true })
	return out
}

// sortRowDiffs sorts rds by order (then by row). An empty order leaves rds
// as it is.
func sortRowDiffs(rds []rowDiff, order []orderColumn) {
	if len(order) == 0 || len(rds) < 2 {
		return
	}
	s := newOrderSorter(order, rds)
	s.sort()
	copy(rds, s.sorted())
}

// firstRowDiffs returns the rows of rds that hold the first k copies in
// the order (all of the last row's copies, even past k), sorted by the
// order (see orderSorter.first).
func firstRowDiffs(rds []rowDiff, order []orderColumn, k int64) []rowDiff {
	s := newOrderSorter(order, rds)
	s.first(k)
	return s.sorted()
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
