package dataflow

import (
	"math/bits"
	"slices"
	"sort"

	"github.com/arbor-db/arbor/timely"
)

// spine is the store of an arrangement whose key is always the same
// columns of the value (a dataflow's output arrangement): a list of sorted
// batches of entries instead of a trace per key. Nothing in it is indexed by
// hash, so a new key costs no probe into a table larger than the caches,
// and an update is written sequentially: appended to fresh, sorted with the
// other fresh updates once there are freshMax of them (or a read needs
// them), and merged into the batches. Each batch's level (the bit length of
// its length) is below the one before it, so there are at most
// bits.Len(entries) batches and an entry is merged about
// log2(entries/freshMax) times over its life, as in differential
// dataflow's spines. Compaction is folded into the merges: a merge advances
// every time it passes to the since and sums the entries that then share
// (value, time), dropping zeros.
//
// A batch is a list of chunks of at most spineChunk entries. A merge reads
// its inputs front to back and hands each chunk it has finished reading to
// the spine's pool, from which it takes the chunks it writes: so the memory
// a merge writes is memory the spine just read, warm in the caches and
// already the process's, not fresh pages for the kernel to fault in and
// the collector to account for (a merge into one new array per merge cost
// more in page faults and collections than the hash table it replaced).
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
	// (value, time) and no zero diffs, oldest (longest) first; each batch's
	// level (spineLevel) is above the next one's.
	batches []*spineBatch
	// flat says there is at most one batch, compacted to the since and
	// consolidated, and fresh is empty: what Len and the full reads walk.
	flat bool
	// keys and entries count what a flat spine holds, when counted (Len
	// on an unchanged arrangement is then free).
	keys, entries int
	counted       bool
	pool          [][]entry // empty chunks of capacity spineChunk, for merges
	scratch       []entry   // ReadKey's buffer, kept between reads
}

// spineBatch is a sorted run of entries in chunks (none empty).
type spineBatch struct {
	chunks [][]entry
	n      int              // entries over the chunks
	lo     timely.Timestamp // every entry's time is at or after lo
}

const (
	// freshMax is how many updates wait unsorted before they are sealed
	// into a batch: the first batch's length, whatever the number of
	// updates per time. (A batch per time, 1000 updates in the Nexmark
	// runs, cost two more merges per update.)
	freshMax = 4096
	// spineChunk is the capacity of a batch's chunk: 48 kB of entries.
	spineChunk = 1024
	// spinePoolMax bounds the spare chunks a spine keeps.
	spinePoolMax = 8
)

func newSpine(cols []int, whole bool) *spine {
	s := &spine{flat: true}
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
		n += b.n
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
	s.fresh, s.batches, s.pool, s.scratch, s.flat, s.counted = nil, nil, nil, nil, true, false
}

// chunk returns an empty chunk for at least min(want, spineChunk) entries.
func (s *spine) chunk(want int) []entry {
	if n := len(s.pool); n > 0 {
		c := s.pool[n-1]
		s.pool[n-1] = nil
		s.pool = s.pool[:n-1]
		return c
	}
	return make([]entry, 0, min(max(want, 16), spineChunk))
}

// recycle takes back a chunk a merge has finished reading.
func (s *spine) recycle(c []entry) {
	if cap(c) != spineChunk || len(s.pool) >= spinePoolMax {
		return // the collector takes it
	}
	clear(c) // release its rows
	s.pool = append(s.pool, c[:0])
}

// batchWriter appends sorted entries to a new batch, summing adjacent
// entries of the same (value, time) and dropping zeros.
type batchWriter struct {
	s    *spine
	b    *spineBatch
	cur  []entry // the chunk being written, not yet in b.chunks
	left int     // an upper bound on the entries still to come
}

func (w *batchWriter) put(e *entry) {
	w.left--
	if n := len(w.cur); n > 0 {
		if last := &w.cur[n-1]; sameUpdate(last, e) {
			if last.diff += e.diff; last.diff == 0 {
				*last = entry{}
				w.cur = w.cur[:n-1]
				w.b.n--
			}
			return
		}
	} else if k := len(w.b.chunks); k > 0 {
		// The chunk just begun: the previous one ends the batch so far.
		prev := w.b.chunks[k-1]
		if last := &prev[len(prev)-1]; sameUpdate(last, e) {
			if last.diff += e.diff; last.diff == 0 {
				*last = entry{}
				prev = prev[:len(prev)-1]
				w.b.n--
				if len(prev) == 0 {
					w.b.chunks = w.b.chunks[:k-1]
					s := w.s
					s.recycle(prev)
				} else {
					w.b.chunks[k-1] = prev
				}
			}
			return
		}
	}
	if len(w.cur) == cap(w.cur) {
		if len(w.cur) > 0 {
			w.b.chunks = append(w.b.chunks, w.cur)
		}
		w.cur = w.s.chunk(w.left + 1)
	}
	w.cur = append(w.cur, *e)
	w.b.n++
}

// finish returns the batch written, nil when it is empty.
func (w *batchWriter) finish() *spineBatch {
	if len(w.cur) > 0 {
		w.b.chunks = append(w.b.chunks, w.cur)
	} else if cap(w.cur) > 0 {
		w.s.recycle(w.cur)
	}
	w.cur = nil
	if w.b.n == 0 {
		return nil
	}
	return w.b
}

// batchReader walks a batch front to back, recycling each chunk once read
// when it consumes the batch.
type batchReader struct {
	s       *spine
	chunks  [][]entry
	ci, i   int
	consume bool
}

// head returns the next entry, nil at the end.
func (r *batchReader) head() *entry {
	if r.ci < len(r.chunks) {
		return &r.chunks[r.ci][r.i]
	}
	return nil
}

func (r *batchReader) next() {
	r.i++
	if r.i == len(r.chunks[r.ci]) {
		if r.consume {
			r.s.recycle(r.chunks[r.ci])
			r.chunks[r.ci] = nil
		}
		r.ci, r.i = r.ci+1, 0
	}
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
	w := batchWriter{s: s, b: &spineBatch{lo: since}, left: len(f)}
	for i := range f {
		w.put(&f[i])
	}
	clear(f) // release the rows; the entries now live in the batch
	s.fresh = f[:0]
	if b := w.finish(); b != nil {
		s.batches = append(s.batches, b)
	}
	s.settle(since)
}

// settle restores the batches' decreasing levels, merging the newest into
// the one before while its level is as high. (A rule on lengths alone, such
// as "at least as long", lets batches that shrink by consolidation pile up
// without bound.)
func (s *spine) settle(since timely.Timestamp) {
	for n := len(s.batches); n >= 2 && spineLevel(s.batches[n-1].n) >= spineLevel(s.batches[n-2].n); n = len(s.batches) {
		s.mergeLast(since)
	}
}

// spineLevel is the level of a batch of n entries: its bit length.
func spineLevel(n int) int { return bits.Len(uint(n)) }

// mergeLast merges the two newest batches into one.
func (s *spine) mergeLast(since timely.Timestamp) {
	n := len(s.batches)
	m := s.merge(s.batches[n-2], s.batches[n-1], since)
	s.batches[n-1] = nil
	s.batches = s.batches[:n-1]
	if m == nil {
		s.batches[n-2] = nil
		s.batches = s.batches[:n-2]
		return
	}
	s.batches[n-2] = m
}

// merge merges batches a and b, which it consumes, into a new batch (nil
// when everything cancelled), advancing every time to since and summing
// the entries that then share (value, time).
func (s *spine) merge(a, b *spineBatch, since timely.Timestamp) *spineBatch {
	ra := batchReader{s: s, chunks: a.chunks, consume: true}
	rb := batchReader{s: s, chunks: b.chunks, consume: true}
	w := batchWriter{s: s, b: &spineBatch{chunks: make([][]entry, 0, (a.n+b.n)/spineChunk+2), lo: since}, left: a.n + b.n}
	x, y := ra.head(), rb.head()
	for x != nil && y != nil {
		x.time, y.time = max(x.time, since), max(y.time, since)
		if s.cmp(x, y) <= 0 {
			w.put(x)
			ra.next()
			x = ra.head()
		} else {
			w.put(y)
			rb.next()
			y = rb.head()
		}
	}
	for ; x != nil; x = ra.head() {
		x.time = max(x.time, since)
		w.put(x)
		ra.next()
	}
	for ; y != nil; y = rb.head() {
		y.time = max(y.time, since)
		w.put(y)
		rb.next()
	}
	return w.finish()
}

// flatten seals fresh and merges every batch into one, compacted to since
// and consolidated: what a read of the whole arrangement walks.
func (s *spine) flatten(since timely.Timestamp) *spineBatch {
	if !s.flat {
		s.seal(since)
		for len(s.batches) >= 2 {
			s.mergeLast(since)
		}
		if len(s.batches) == 1 && s.batches[0].lo < since {
			// Merge the batch with nothing: advance and consolidate it.
			if m := s.merge(s.batches[0], &spineBatch{}, since); m != nil {
				s.batches[0] = m
			} else {
				s.batches = nil
			}
		}
		s.flat, s.counted = true, false
	}
	if len(s.batches) == 0 {
		return nil
	}
	return s.batches[0]
}

// compacted notes that the since advanced: the batches and fresh may hold
// times before it again, which the next seal or merge advances (reads at or
// after the since cannot tell).
func (s *spine) compacted() {
	s.flat = false
}

// len returns the number of keys and of entries once compacted to since.
func (s *spine) len(since timely.Timestamp) (keys, entries int) {
	b := s.flatten(since)
	if b == nil {
		return 0, 0
	}
	if s.counted {
		return s.keys, s.entries
	}
	var prev *entry
	for _, c := range b.chunks {
		for x := range c {
			if prev == nil || !s.sameKey(prev, &c[x]) {
				keys++
			}
			prev = &c[x]
		}
	}
	s.keys, s.entries, s.counted = keys, b.n, true
	return keys, b.n
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
	b := s.flatten(since)
	if b == nil {
		return
	}
	r := batchReader{chunks: b.chunks}
	for e := r.head(); e != nil; {
		r.next()
		nx := r.head()
		if nx == nil || nx.abbr != e.abbr || !nx.val.Equal(e.val) {
			// The common case: a value with one entry.
			if e.time <= t && !fn(e.val, e.diff) {
				return
			}
			e = nx
			continue
		}
		var sum int64
		if e.time <= t {
			sum = e.diff
		}
		for ; nx != nil && nx.abbr == e.abbr && nx.val.Equal(e.val); nx = r.head() {
			if nx.time <= t {
				sum += nx.diff
			}
			r.next()
		}
		if sum != 0 && !fn(e.val, sum) {
			return
		}
		e = nx
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
	// before says entry e's key sorts before key.
	before := func(e *entry) bool {
		return e.abbr < abbr || e.abbr == abbr && s.compareKey(key, e.val) > 0
	}
	got := s.scratch[:0]
	sources := 0
	for _, b := range s.batches {
		// The first chunk whose last entry is not before key, then the
		// first entry in it not before key.
		ci := sort.Search(len(b.chunks), func(i int) bool {
			c := b.chunks[i]
			return !before(&c[len(c)-1])
		})
		if ci == len(b.chunks) {
			continue
		}
		c := b.chunks[ci]
		i := sort.Search(len(c), func(i int) bool { return !before(&c[i]) })
		r := batchReader{chunks: b.chunks, ci: ci, i: i}
		n := len(got)
		for e := r.head(); e != nil && e.abbr == abbr && s.compareKey(key, e.val) == 0; e = r.head() {
			if e.time <= t {
				got = append(got, *e)
			}
			r.next()
		}
		if len(got) > n {
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
