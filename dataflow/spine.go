package dataflow

import (
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// spine is the store of an arrangement whose key is always the same
// columns of the value (a dataflow's output arrangement): a list of sorted
// batches of entries instead of a trace per key. Nothing in it is indexed by
// hash, so a new key costs no probe into a table larger than the caches,
// and an update is written sequentially: appended to fresh, sorted with the
// other updates of its time when the since advances (or fresh fills up),
// and merged into the batches, which keep geometrically decreasing lengths
// (each at least twice the next) so that an entry is merged about
// log2(entries/batch) times over its life, as differential dataflow's
// spines do. Compaction is folded into the merges: a merge advances the
// times it passes to the since and sums the entries that then share
// (value, time), dropping zeros. Entries a merge does not pass keep their
// old times until a later merge or a full read reaches them, which readers
// cannot tell (a read at t >= since sums the times <= t either way).
//
// Entries are ordered by (key abbreviation, key, value, time), so the
// batches are in key order and, within a key, in value order: a read of the
// whole arrangement merges the batches into one and walks it, in order, and
// a read of one key is a binary search per batch.
//
// The key of an entry is not stored: it is the columns cols of its value
// (the whole value when cols is nil), which is the contract of every update
// a spine arrangement receives.
type spine struct {
	cols  []int   // the key's columns of a value; nil: the whole value
	fresh []entry // updates since the last seal, in arrival order
	// batches hold sorted entries with no two adjacent entries of the same
	// (value, time) and no zero diffs; len(batches[i]) > 2*len(batches[i+1]).
	batches [][]entry
	// flat says batches is at most one batch, fully compacted to the since
	// and consolidated, with fresh empty: what Len and the full reads need.
	flat    bool
	scratch []entry // ReadKey's buffer, kept between reads
}

// freshMax bounds the updates kept unsorted: past it they are sealed into a
// batch even if the since has not advanced.
const freshMax = 4096

func newSpine(cols []int, whole bool) *spine {
	s := &spine{}
	if !whole {
		s.cols = slices.Clone(cols)
		if s.cols == nil {
			s.cols = []int{} // a key of no columns: every value under one key
		}
	}
	return s
}

// abbr abbreviates the key of val: rowAbbr of the key row.
func (s *spine) abbr(val Row) uint64 {
	if s.cols == nil {
		return rowAbbr(val)
	}
	return colsAbbr(val, s.cols)
}

// colsAbbr is rowAbbr(r.project(cols)) without building that row.
func colsAbbr(r Row, cols []int) uint64 {
	if len(cols) == 0 {
		return 0
	}
	hi, exact := abbrField(r[cols[0]])
	if !exact || len(cols) == 1 {
		return uint64(hi) << 32
	}
	lo, _ := abbrField(r[cols[1]])
	return uint64(hi)<<32 | uint64(lo)
}

// compareCols compares the cols of a and b as key rows (Row.Compare of the
// projections).
func compareCols(a, b Row, cols []int) int {
	for _, c := range cols {
		if x := a[c].Compare(b[c]); x != 0 {
			return x
		}
	}
	return 0
}

// compareKey compares a key row with the key of val.
func (s *spine) compareKey(key, val Row) int {
	if s.cols == nil {
		return key.Compare(val)
	}
	for i, c := range s.cols {
		if x := key[i].Compare(val[c]); x != 0 {
			return x
		}
	}
	return 0
}

// cmp orders entries by (key abbreviation, key, value, time).
func (s *spine) cmp(a, b *entry) int {
	if a.abbr != b.abbr {
		if a.abbr < b.abbr {
			return -1
		}
		return 1
	}
	if s.cols != nil {
		if c := compareCols(a.val, b.val, s.cols); c != 0 {
			return c
		}
	}
	if c := a.val.Compare(b.val); c != 0 {
		return c
	}
	switch {
	case a.time < b.time:
		return -1
	case a.time > b.time:
		return 1
	}
	return 0
}

// sameUpdate says a and b are updates of one value at one time.
func sameUpdate(a, b *entry) bool {
	return a.abbr == b.abbr && a.time == b.time && a.val.Equal(b.val)
}

// size returns the number of entries held, before consolidation.
func (s *spine) size() int {
	n := len(s.fresh)
	for _, b := range s.batches {
		n += len(b)
	}
	return n
}

// push records an update; t is at or after the since.
func (s *spine) push(val Row, t timely.Timestamp, diff int64, since timely.Timestamp) {
	s.fresh = append(s.fresh, entry{abbr: s.abbr(val), val: val, time: t, diff: diff})
	s.flat = false
	if len(s.fresh) >= freshMax {
		s.seal(since)
	}
}

// drop forgets every entry (a closed since).
func (s *spine) drop() {
	s.fresh, s.batches, s.scratch, s.flat = nil, nil, nil, true
}

// seal sorts and consolidates fresh into a batch and adds it to the spine.
func (s *spine) seal(since timely.Timestamp) {
	if len(s.fresh) == 0 {
		return
	}
	f := s.fresh
	for i := range f {
		f[i].time = max(f[i].time, since)
	}
	slices.SortFunc(f, func(a, b entry) int { return s.cmp(&a, &b) })
	b := consolidateEntries(f, 0)
	s.add(b, since)
	clear(f) // release the rows; the entries now live in the batches
	s.fresh = f[:0]
	if cap(s.fresh) > 4*freshMax {
		s.fresh = nil
	}
}

// add adds the sorted, consolidated entries b (which the spine does not
// keep) as the newest batch, then merges while the newest batch is at least
// half as long as the one before it.
func (s *spine) add(b []entry, since timely.Timestamp) {
	if len(b) == 0 {
		return
	}
	if n := len(s.batches); n > 0 && 2*len(b) >= len(s.batches[n-1]) {
		s.batches[n-1] = s.merge(s.batches[n-1], b, since)
	} else {
		s.batches = append(s.batches, slices.Clone(b))
	}
	s.settle(since)
}

// settle restores the batches' geometric lengths, merging the newest into
// the one before while it is at least half as long, and drops empty ones.
func (s *spine) settle(since timely.Timestamp) {
	for {
		n := len(s.batches)
		if n > 0 && len(s.batches[n-1]) == 0 {
			s.batches[n-1] = nil
			s.batches = s.batches[:n-1]
			continue
		}
		if n < 2 || 2*len(s.batches[n-1]) < len(s.batches[n-2]) {
			return
		}
		s.batches[n-2] = s.merge(s.batches[n-2], s.batches[n-1], since)
		s.batches[n-1] = nil
		s.batches = s.batches[:n-1]
	}
}

// merge merges b into a (both sorted and consolidated) and returns the
// result, sorted and consolidated, advancing to since the times of the
// entries it passes. It merges from the back, in place when a has the room
// (an entry of a is then written at or after where it was, so it is read
// before it is overwritten), else into a new slice with half again the room
// (so that a long batch receiving short ones is not copied for each). The
// entries of a before b's first are left where they are, times unchanged.
func (s *spine) merge(a, b []entry, since timely.Timestamp) []entry {
	n := len(a) + len(b)
	var dst []entry
	inPlace := cap(a) >= n
	if inPlace {
		dst = a[:n]
	} else {
		dst = make([]entry, n, n+n/2)
	}
	i, j, k := len(a)-1, len(b)-1, n
	firstDup := -1
	for j >= 0 {
		b[j].time = max(b[j].time, since)
		var e entry
		if i >= 0 {
			a[i].time = max(a[i].time, since)
			if s.cmp(&a[i], &b[j]) > 0 {
				e = a[i]
				i--
			} else {
				e = b[j]
				j--
			}
		} else {
			e = b[j]
			j--
		}
		k--
		dst[k] = e
		if k+1 < n && sameUpdate(&dst[k], &dst[k+1]) {
			firstDup = k
		}
	}
	// What is left of a is its first i+1 entries, all before dst[k].
	if !inPlace {
		copy(dst, a[:i+1])
	}
	if i >= 0 && k < n && sameUpdate(&dst[i], &dst[k]) {
		firstDup = i
	}
	if firstDup < 0 {
		return dst
	}
	out := consolidateEntries(dst, firstDup)
	clear(dst[len(out):]) // release the rows of the entries summed away
	return out
}

// consolidateEntries sums the adjacent entries of es[from:] that share
// (value, time) and drops the zeros, in place, given that es[:from] has no
// two adjacent such entries and no zeros. It returns the shortened slice.
func consolidateEntries(es []entry, from int) []entry {
	out := from
	for x := from; x < len(es); x++ {
		if out > 0 && sameUpdate(&es[out-1], &es[x]) {
			es[out-1].diff += es[x].diff
			if es[out-1].diff == 0 {
				out--
			}
			continue
		}
		es[out] = es[x]
		out++
	}
	return es[:out]
}

// flatten seals fresh and merges every batch into one, compacted to since
// and consolidated: what a read of the whole arrangement walks.
func (s *spine) flatten(since timely.Timestamp) []entry {
	if s.flat {
		if len(s.batches) == 0 {
			return nil
		}
		return s.batches[0]
	}
	s.seal(since)
	for n := len(s.batches); n >= 2; n-- {
		s.batches[n-2] = s.merge(s.batches[n-2], s.batches[n-1], since)
		s.batches[n-1] = nil
		s.batches = s.batches[:n-1]
	}
	s.flat = true
	if len(s.batches) == 0 {
		return nil
	}
	// Entries no merge has passed may still hold times before the since.
	es := s.batches[0]
	firstDup := -1
	for x := range es {
		es[x].time = max(es[x].time, since)
		if firstDup < 0 && x > 0 && sameUpdate(&es[x-1], &es[x]) {
			firstDup = x - 1
		}
	}
	if firstDup >= 0 {
		out := consolidateEntries(es, firstDup)
		clear(es[len(out):])
		es = out
	}
	if len(es) == 0 {
		s.batches = nil
		return nil
	}
	s.batches[0] = es
	return es
}

// compacted notes that the since advanced: the batches may hold times
// before it again.
func (s *spine) compacted(since timely.Timestamp) {
	s.seal(since)
	s.flat = false
}

// len returns the number of keys and of entries once compacted to since.
func (s *spine) len(since timely.Timestamp) (keys, entries int) {
	es := s.flatten(since)
	for x := range es {
		if x == 0 || !s.sameKey(&es[x-1], &es[x]) {
			keys++
		}
	}
	return keys, len(es)
}

// sameKey says two entries share their key.
func (s *spine) sameKey(a, b *entry) bool {
	if a.abbr != b.abbr {
		return false
	}
	if s.cols == nil {
		return a.val.Equal(b.val)
	}
	return compareCols(a.val, b.val, s.cols) == 0
}

// read calls fn for each value with a non-zero multiplicity at time t, in
// key order and within a key in value order. fn returns false to stop.
func (s *spine) read(t timely.Timestamp, since timely.Timestamp, fn func(val Row, mult int64) bool) {
	es := s.flatten(since)
	for x := 0; x < len(es); {
		y := x + 1
		if es[x].time <= t {
			// The common case: a value with one entry at a time already
			// visible.
			if y == len(es) || es[y].abbr != es[x].abbr || !es[y].val.Equal(es[x].val) {
				if !fn(es[x].val, es[x].diff) {
					return
				}
				x = y
				continue
			}
		}
		var sum int64
		for y = x; y < len(es) && es[y].abbr == es[x].abbr && es[y].val.Equal(es[x].val); y++ {
			if es[y].time <= t {
				sum += es[y].diff
			}
		}
		if sum != 0 && !fn(es[x].val, sum) {
			return
		}
		x = y
	}
}

// readKey calls fn for each value of key with a non-zero multiplicity at
// time t, in value order.
func (s *spine) readKey(key Row, t timely.Timestamp, since timely.Timestamp, fn func(val Row, mult int64)) {
	if s.cols != nil && len(key) != len(s.cols) {
		return // no key of another width is held
	}
	s.seal(since)
	abbr := rowAbbr(key)
	got := s.scratch[:0]
	sources := 0
	for _, es := range s.batches {
		lo, hi := 0, len(es)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			e := &es[m]
			if e.abbr < abbr || e.abbr == abbr && s.compareKey(key, e.val) > 0 {
				lo = m + 1
			} else {
				hi = m
			}
		}
		before := len(got)
		for x := lo; x < len(es) && es[x].abbr == abbr && s.compareKey(key, es[x].val) == 0; x++ {
			if es[x].time <= t {
				got = append(got, es[x])
			}
		}
		if len(got) > before {
			sources++
		}
	}
	if sources > 1 {
		slices.SortStableFunc(got, func(a, b entry) int { return a.val.Compare(b.val) })
	}
	for x := 0; x < len(got); {
		var sum int64
		y := x
		for ; y < len(got) && got[y].val.Equal(got[x].val); y++ {
			sum += got[y].diff
		}
		if sum != 0 {
			fn(got[x].val, sum)
		}
		x = y
	}
	clear(got)
	s.scratch = got[:0]
}
