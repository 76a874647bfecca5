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
// moves entries only within that chunk. The chunks are held in groups of at
// most groupMax, so that splitting a chunk moves at most groupMax chunk
// headers: a two-level tree, enough for hundreds of millions of entries.
//
// Invariants: no chunk and no group is empty; every chunk is sorted by
// (value, time); values never decrease from one chunk to the next, so all
// entries of one value are adjacent. Compaction is amortized: a chunk that
// overflows chunkMax is compacted to the since (times before it become it,
// equal entries are summed, zeros dropped) and split only if still large,
// so compaction work is proportional to inserts, not to history. A chunk's
// compaction can leave two entries of one (value, time) on either side of a
// chunk boundary, or a value's times out of order across it; reads and
// multiplicities sum a value's entries wherever they are, and a full
// compaction (Arrangement.Compact) sorts and sums them.
type chunkList struct {
	groups []*chunkGroup
	n      int // entries over all chunks
}

type chunkGroup struct {
	chunks [][]entry
}

// groupMax bounds the chunks of one group.
const groupMax = 256

// cmpEntry orders an entry against (val, t), abbr being rowAbbr(val).
func cmpEntry(e *entry, abbr uint64, val Row, t timely.Timestamp) int {
	if e.abbr != abbr {
		if e.abbr < abbr {
			return -1
		}
		return 1
	}
	if c := e.val.Compare(val); c != 0 {
		return c
	}
	return cmp.Compare(e.time, t)
}

func cmpEntries(a, b entry) int {
	if a.abbr != b.abbr {
		if a.abbr < b.abbr {
			return -1
		}
		return 1
	}
	if c := a.val.Compare(b.val); c != 0 {
		return c
	}
	return cmp.Compare(a.time, b.time)
}

// searchEntries returns the first index of es whose entry is at or after
// (val, t), abbr being rowAbbr(val).
func searchEntries(es []entry, abbr uint64, val Row, t timely.Timestamp) int {
	lo, hi := 0, len(es)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(&es[m], abbr, val, t) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// newChunkList splits sorted entries into chunks of half of chunkMax, so
// each has room to grow before it overflows, in groups of half of groupMax.
func newChunkList(es []entry) *chunkList {
	l := &chunkList{n: len(es)}
	const size = chunkMax / 2
	var g *chunkGroup
	for len(es) > 0 {
		if g == nil || len(g.chunks) == groupMax/2 {
			g = &chunkGroup{}
			l.groups = append(l.groups, g)
		}
		n := min(size, len(es))
		c := make([]entry, n, chunkMax+1)
		copy(c, es[:n])
		g.chunks = append(g.chunks, c)
		es = es[n:]
	}
	return l
}

// locate returns the chunk (val, t) belongs in: the last chunk whose first
// entry is before it, or the first chunk.
func (l *chunkList) locate(abbr uint64, val Row, t timely.Timestamp) (g, c int) {
	lo, hi := 0, len(l.groups)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(&l.groups[m].chunks[0][0], abbr, val, t) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	g = max(lo-1, 0)
	cs := l.groups[g].chunks
	lo, hi = 0, len(cs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(&cs[m][0], abbr, val, t) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return g, max(lo-1, 0)
}

// nextChunk and prevChunk step from chunk (g, c) to its neighbour.
func (l *chunkList) nextChunk(g, c int) (int, int, bool) {
	switch {
	case c+1 < len(l.groups[g].chunks):
		return g, c + 1, true
	case g+1 < len(l.groups):
		return g + 1, 0, true
	}
	return 0, 0, false
}

func (l *chunkList) prevChunk(g, c int) (int, int, bool) {
	switch {
	case c > 0:
		return g, c - 1, true
	case g > 0:
		return g - 1, len(l.groups[g-1].chunks) - 1, true
	}
	return 0, 0, false
}

// removeChunk drops chunk (g, c), and its group if that empties.
func (l *chunkList) removeChunk(g, c int) {
	gr := l.groups[g]
	gr.chunks = slices.Delete(gr.chunks, c, c+1)
	if len(gr.chunks) == 0 {
		l.groups = slices.Delete(l.groups, g, g+1)
	}
}

// insertChunk puts chunk ch after chunk (g, c), splitting the group when it
// outgrows groupMax.
func (l *chunkList) insertChunk(g, c int, ch []entry) {
	gr := l.groups[g]
	gr.chunks = slices.Insert(gr.chunks, c+1, ch)
	if len(gr.chunks) <= groupMax {
		return
	}
	h := len(gr.chunks) / 2
	right := &chunkGroup{chunks: append(make([][]entry, 0, groupMax+1), gr.chunks[h:]...)}
	clear(gr.chunks[h:])
	gr.chunks = gr.chunks[:h]
	l.groups = slices.Insert(l.groups, g+1, right)
}

// insert adds diff to (val, t), abbr being rowAbbr(val). It returns the
// change in the number of entries and the multiplicity of val (over all its
// times) before.
func (l *chunkList) insert(abbr uint64, val Row, t timely.Timestamp, diff int64, since timely.Timestamp) (added int, before int64) {
	g, c := l.locate(abbr, val, t)
	ch := l.groups[g].chunks[c]
	i := searchEntries(ch, abbr, val, t)
	if i == len(ch) {
		if ng, nc, ok := l.nextChunk(g, c); ok && cmpEntry(&l.groups[ng].chunks[nc][0], abbr, val, t) == 0 {
			g, c, i = ng, nc, 0
			ch = l.groups[g].chunks[c]
		}
	}
	before = l.mult(g, c, i, abbr, val)
	if i < len(ch) && ch[i].time == t && ch[i].abbr == abbr && ch[i].val.Equal(val) {
		ch[i].diff += diff
		if ch[i].diff != 0 {
			return 0, before
		}
		copy(ch[i:], ch[i+1:])
		ch[len(ch)-1] = entry{}
		ch = ch[:len(ch)-1]
		l.n--
		if len(ch) == 0 {
			l.removeChunk(g, c)
		} else {
			l.groups[g].chunks[c] = ch
		}
		return -1, before
	}
	ch = append(ch, entry{})
	copy(ch[i+1:], ch[i:])
	ch[i] = entry{abbr: abbr, val: val, time: t, diff: diff}
	l.groups[g].chunks[c] = ch
	l.n++
	added = 1
	if len(ch) > chunkMax {
		added += l.overflow(g, c, since)
	}
	return added, before
}

// mult sums the diffs of val's entries, which are adjacent to position i
// of chunk (g, c) (on either side, possibly across chunk boundaries).
func (l *chunkList) mult(g, c, i int, abbr uint64, val Row) int64 {
	var sum int64
	for bg, bc, bi := g, c, i-1; ; bi-- {
		if bi < 0 {
			var ok bool
			if bg, bc, ok = l.prevChunk(bg, bc); !ok {
				break
			}
			bi = len(l.groups[bg].chunks[bc]) - 1
		}
		e := &l.groups[bg].chunks[bc][bi]
		if e.abbr != abbr || !e.val.Equal(val) {
			break
		}
		sum += e.diff
	}
	for fg, fc, fi := g, c, i; ; fi++ {
		if fi >= len(l.groups[fg].chunks[fc]) {
			var ok bool
			if fg, fc, ok = l.nextChunk(fg, fc); !ok {
				break
			}
			fi = 0
		}
		e := &l.groups[fg].chunks[fc][fi]
		if e.abbr != abbr || !e.val.Equal(val) {
			break
		}
		sum += e.diff
	}
	return sum
}

// overflow compacts chunk (g, c), which has grown past chunkMax, to since,
// and splits it in two if it is still more than half full. It returns the
// change in the number of entries.
func (l *chunkList) overflow(g, c int, since timely.Timestamp) int {
	ch := l.groups[g].chunks[c]
	out := compactEntries(ch, since)
	for k := len(out); k < len(ch); k++ {
		ch[k] = entry{}
	}
	delta := len(out) - len(ch)
	l.n += delta
	switch {
	case len(out) == 0:
		l.removeChunk(g, c)
	case len(out) <= chunkMax/2:
		l.groups[g].chunks[c] = out
	default:
		h := len(out) / 2
		right := make([]entry, len(out)-h, chunkMax+1)
		copy(right, out[h:])
		clear(out[h:])
		l.groups[g].chunks[c] = out[:h]
		l.insertChunk(g, c, right)
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
		if n := len(out); n > 0 && out[n-1].time == e.time && out[n-1].abbr == e.abbr && out[n-1].val.Equal(e.val) {
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
	for _, g := range l.groups {
		for _, c := range g.chunks {
			for _, e := range c {
				if e.time < since {
					e.time = since
				}
				all = append(all, e)
			}
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
	var curAbbr uint64
	var sum int64
	have := false
	for _, g := range l.groups {
		for _, c := range g.chunks {
			for k := range c {
				e := &c[k]
				if have && e.abbr == curAbbr && e.val.Equal(cur) {
					if e.time <= t {
						sum += e.diff
					}
					continue
				}
				if have && sum != 0 {
					fn(cur, sum)
				}
				cur, curAbbr, sum, have = e.val, e.abbr, 0, true
				if e.time <= t {
					sum = e.diff
				}
			}
		}
	}
	if have && sum != 0 {
		fn(cur, sum)
	}
}
