package dataflow

import (
	"cmp"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// chunkMax bounds the entries of a small trace and of one chunk of a big
// one. An insert moves at most this many entries, whatever the size of the
// key's history.
const chunkMax = 128

// chunkList holds the entries of a big trace as a list of sorted chunks,
// so that an insert searches the chunks' first entries, then one chunk, and
// moves entries only within that chunk.
//
// Invariants: no chunk is empty; every chunk is sorted by (value, time);
// values never decrease from one chunk to the next, so all entries of one
// value are adjacent. Compaction is amortized: a chunk that overflows
// chunkMax is compacted to the since (times before it become it, equal
// entries are summed, zeros dropped) and split only if still large, so
// compaction work is proportional to inserts, not to history. A chunk's
// compaction can leave two entries of one (value, time) on either side of a
// chunk boundary, or a value's times out of order across it; reads and
// multiplicities sum a value's entries wherever they are, and a full
// compaction (Arrangement.Compact) sorts and sums them.
type chunkList struct {
	chunks [][]entry
	n      int // entries over all chunks
}

// cmpEntry orders an entry against (val, t).
func cmpEntry(e *entry, val Row, t timely.Timestamp) int {
	if c := e.val.Compare(val); c != 0 {
		return c
	}
	return cmp.Compare(e.time, t)
}

func cmpEntries(a, b entry) int {
	if c := a.val.Compare(b.val); c != 0 {
		return c
	}
	return cmp.Compare(a.time, b.time)
}

// searchEntries returns the first index of es whose entry is at or after
// (val, t).
func searchEntries(es []entry, val Row, t timely.Timestamp) int {
	lo, hi := 0, len(es)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(&es[m], val, t) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// newChunkList splits sorted entries into chunks of half of chunkMax, so
// each has room to grow before it overflows.
func newChunkList(es []entry) *chunkList {
	l := &chunkList{n: len(es)}
	const size = chunkMax / 2
	for len(es) > 0 {
		n := min(size, len(es))
		c := make([]entry, n, chunkMax+1)
		copy(c, es[:n])
		l.chunks = append(l.chunks, c)
		es = es[n:]
	}
	return l
}

// locate returns the chunk (val, t) belongs in: the last chunk whose first
// entry is before it, or the first chunk.
func (l *chunkList) locate(val Row, t timely.Timestamp) int {
	lo, hi := 0, len(l.chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(&l.chunks[m][0], val, t) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return max(lo-1, 0)
}

// insert adds diff to (val, t). It returns the change in the number of
// entries and the multiplicity of val (over all its times) before.
func (l *chunkList) insert(val Row, t timely.Timestamp, diff int64, since timely.Timestamp) (added int, before int64) {
	j := l.locate(val, t)
	c := l.chunks[j]
	i := searchEntries(c, val, t)
	if i == len(c) && j+1 < len(l.chunks) && cmpEntry(&l.chunks[j+1][0], val, t) == 0 {
		j, i, c = j+1, 0, l.chunks[j+1]
	}
	before = l.mult(j, i, val)
	if i < len(c) && c[i].time == t && c[i].val.Equal(val) {
		c[i].diff += diff
		if c[i].diff != 0 {
			return 0, before
		}
		copy(c[i:], c[i+1:])
		c[len(c)-1] = entry{}
		c = c[:len(c)-1]
		l.n--
		if len(c) == 0 {
			l.chunks = slices.Delete(l.chunks, j, j+1)
		} else {
			l.chunks[j] = c
		}
		return -1, before
	}
	c = append(c, entry{})
	copy(c[i+1:], c[i:])
	c[i] = entry{val: val, time: t, diff: diff}
	l.chunks[j] = c
	l.n++
	added = 1
	if len(c) > chunkMax {
		added += l.overflow(j, since)
	}
	return added, before
}

// mult sums the diffs of val's entries, which are adjacent to position i
// of chunk j (on either side, possibly across chunk boundaries).
func (l *chunkList) mult(j, i int, val Row) int64 {
	var sum int64
	for bj, bi := j, i-1; ; bi-- {
		if bi < 0 {
			if bj--; bj < 0 {
				break
			}
			bi = len(l.chunks[bj]) - 1
		}
		e := &l.chunks[bj][bi]
		if !e.val.Equal(val) {
			break
		}
		sum += e.diff
	}
	for fj, fi := j, i; fj < len(l.chunks); fi++ {
		if fi >= len(l.chunks[fj]) {
			fj, fi = fj+1, -1
			continue
		}
		e := &l.chunks[fj][fi]
		if !e.val.Equal(val) {
			break
		}
		sum += e.diff
	}
	return sum
}

// overflow compacts chunk j, which has grown past chunkMax, to since, and
// splits it in two if it is still more than half full. It returns the
// change in the number of entries.
func (l *chunkList) overflow(j int, since timely.Timestamp) int {
	c := l.chunks[j]
	out := compactEntries(c, since)
	for k := len(out); k < len(c); k++ {
		c[k] = entry{}
	}
	delta := len(out) - len(c)
	l.n += delta
	switch {
	case len(out) == 0:
		l.chunks = slices.Delete(l.chunks, j, j+1)
	case len(out) <= chunkMax/2:
		l.chunks[j] = out
	default:
		h := len(out) / 2
		right := make([]entry, len(out)-h, chunkMax+1)
		copy(right, out[h:])
		clear(out[h:])
		l.chunks[j] = out[:h]
		l.chunks = slices.Insert(l.chunks, j+1, right)
	}
	return delta
}

// compactEntries advances the times of sorted entries to at least since
// and sums entries that become equal, dropping zeros, in place.
func compactEntries(es []entry, since timely.Timestamp) []entry {
	out := es[:0]
	for _, e := range es {
		if e.time < since {
			e.time = since
		}
		if n := len(out); n > 0 && out[n-1].time == e.time && out[n-1].val.Equal(e.val) {
			out[n-1].diff += e.diff
			if out[n-1].diff == 0 {
				out = out[:n-1]
			}
			continue
		}
		out = append(out, e)
	}
	return out
}

// flatten returns every entry compacted to since, sorted by (value, time)
// with one entry per (value, time), in a new slice.
func (l *chunkList) flatten(since timely.Timestamp) []entry {
	all := make([]entry, 0, l.n)
	for _, c := range l.chunks {
		for _, e := range c {
			if e.time < since {
				e.time = since
			}
			all = append(all, e)
		}
	}
	if !slices.IsSortedFunc(all, cmpEntries) {
		slices.SortStableFunc(all, cmpEntries)
	}
	return compactEntries(all, since)
}

// read calls fn for each value with a non-zero multiplicity at time t, in
// value order.
func (l *chunkList) read(t timely.Timestamp, fn func(val Row, mult int64)) {
	var cur Row
	var sum int64
	have := false
	for _, c := range l.chunks {
		for k := range c {
			e := &c[k]
			if have && e.val.Equal(cur) {
				if e.time <= t {
					sum += e.diff
				}
				continue
			}
			if have && sum != 0 {
				fn(cur, sum)
			}
			cur, sum, have = e.val, 0, true
			if e.time <= t {
				sum = e.diff
			}
		}
	}
	if have && sum != 0 {
		fn(cur, sum)
	}
}
