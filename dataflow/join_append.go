package dataflow

// appendIndex is a join side over a monotonic (append-only) input: rows
// grouped by key, unconsolidated and without times. An insert is a hash
// lookup and a prepend; nothing is sorted or compacted, because nothing is
// ever retracted and a join reads a side's whole contents (every time so
// far) anyway.
//
// The layout keeps the collector and the cache out of the way:
//
//   - Keys are found through an open-addressing table of pointer-free
//     slots (appendTable), which a join stage's two append-only sides
//     share: a slot holds each side's newest record, so a row that probes
//     one side and is inserted into the other reads one slot. When the key
//     is one column of a fixed-width type (int64, timestamp, bool), the
//     slot holds its value, so a probe compares in the slot and reads
//     nothing else to find or reject a key; other keys are rows kept aside
//     and compared through the slot's key index.
//   - Rows are records in a pointer-free arena of uint64 words: the next
//     record of the same key, the diff, then a null mask and the row. A
//     row whose columns are all of fixed width is stored as their bits
//     (packed); any other row is kept as a Row and its record holds its
//     index. A key's records form a chain from the slot, newest first: an
//     insert writes at the arena's end and updates the slot, touching no
//     older record. (Join output is a multiset: nothing downstream depends
//     on the order of a key's rows.) A record's address is 32 bits: an
//     index holds at most 2^32 words (32 GB).
type appendIndex struct {
	t    *appendTable
	side int // which of the table's heads is this index's
	rows int // rows held, for Stats

	// constant after newAppendIndex
	types  []Type // the stored rows' column types
	packed bool   // rows are stored as their columns' bits
	stride int    // words per record

	words  [][]uint64 // the record arena; record a is words[a>>arenaShift][a&arenaMask:]
	boxed  [][]Row    // rows of an unpacked index, in slabs of appendSlab
	nboxed int
}

// appendTable finds keys for up to two append-only indexes with the same
// key, the two sides of a join stage: a probe from one side and the insert
// into the other then read one slot, not one in each of two tables.
type appendTable struct {
	table  []appendSlot // a power of two long, at most half full
	n      int32        // keys
	inline bool         // the key is one fixed-width column, held in the slot
	keys   []Row        // key i + 1 of a slot, when not inline
}

// appendSlot is a slot of the table: a key's hash, its value when inline,
// the newest record of each side, and its key index + 1 (or 1 when
// inline); idx zero marks an empty slot.
type appendSlot struct {
	hash uint64
	k0   uint64
	head [2]uint32
	idx  int32
}

const (
	appendSlab = 256 // boxed rows per slab
	arenaShift = 16  // 512 KB chunks of records
	arenaChunk = 1 << arenaShift
	arenaMask  = arenaChunk - 1
	arenaFirst = 256 // words of a new index's first chunk, which doubles until arenaChunk
)

// fixedWidth reports whether a column of type t is held in a word: its
// Datum's word() says everything but nullness.
func fixedWidth(t Type) bool {
	return t == TypeInt64 || t == TypeTimestamp || t == TypeBool || t == TypeFloat64
}

// newAppendTable returns a table for keys that are the columns keyCols of
// rows of schema.
func newAppendTable(schema Schema, keyCols []int) *appendTable {
	t := &appendTable{table: make([]appendSlot, 64)}
	// Float keys are not inline: -0 equals 0 and NaN equals NaN under
	// Compare, with other bits.
	if len(keyCols) == 1 {
		typ := schema[keyCols[0]].Type
		t.inline = typ == TypeInt64 || typ == TypeTimestamp || typ == TypeBool
	}
	return t
}

// newAppendIndex returns an index of rows of schema whose key is the
// columns keyCols of a row, with a table of its own.
func newAppendIndex(schema Schema, keyCols []int) *appendIndex {
	return newAppendSide(newAppendTable(schema, keyCols), 0, schema)
}

// newAppendSide returns an index of rows of schema that finds its keys in
// t, where it is side (0 or 1).
func newAppendSide(t *appendTable, side int, schema Schema) *appendIndex {
	x := &appendIndex{t: t, side: side, types: schema.types(), packed: len(schema) <= 64}
	for _, c := range schema {
		x.packed = x.packed && fixedWidth(c.Type)
	}
	x.stride = 3 // next, diff, row index
	if x.packed {
		x.stride = 3 + len(schema) // next, diff, null mask, columns
	}
	x.words = [][]uint64{make([]uint64, 1, arenaFirst)} // record 0 is "none"
	return x
}

// slotOf spreads a key hash (Row.hashCols' FNV, whose low bits alone
// cluster, or keyHash) over a table.
func slotOf(h uint64, mask int) int {
	h *= 0x9e3779b97f4a7c15
	return int(h>>32) & mask
}

// find returns the slot of the key k refers to and whether it holds that
// key; when not, the slot is the empty one where the key would go.
// k's key columns are not null (a null never joins).
func (x *appendTable) find(k keyRef) (int, bool) {
	mask := len(x.table) - 1
	var k0 uint64
	if x.inline {
		k0 = keyDatum0(k).word()
	}
	for i := slotOf(k.hash, mask); ; i = (i + 1) & mask {
		s := &x.table[i]
		if s.idx == 0 {
			return i, false
		}
		if s.hash != k.hash {
			continue
		}
		if x.inline {
			if s.k0 == k0 {
				return i, true
			}
		} else if k.matches(x.keys[s.idx-1]) {
			return i, true
		}
	}
}

// grow doubles the table.
func (x *appendTable) grow() {
	old := x.table
	x.table = make([]appendSlot, 2*len(old))
	mask := len(x.table) - 1
	for _, s := range old {
		if s.idx == 0 {
			continue
		}
		i := slotOf(s.hash, mask)
		for x.table[i].idx != 0 {
			i = (i + 1) & mask
		}
		x.table[i] = s
	}
}

// lookup returns the newest record of the key k refers to, or 0. The
// key's other records follow through next.
func (x *appendIndex) lookup(k keyRef) uint32 {
	if i, ok := x.t.find(k); ok {
		return x.t.table[i].head[x.side]
	}
	return 0
}

// slot returns the slot of the key k refers to, adding the key if needed.
func (x *appendTable) slot(k keyRef) *appendSlot {
	i, ok := x.find(k)
	if ok {
		return &x.table[i]
	}
	s := appendSlot{hash: k.hash, idx: 1}
	if x.inline {
		s.k0 = keyDatum0(k).word()
	} else {
		x.keys = append(x.keys, k.row())
		s.idx = int32(len(x.keys))
	}
	x.table[i] = s
	x.n++
	if 2*int(x.n) > len(x.table) {
		x.grow()
		i, _ = x.find(k)
	}
	return &x.table[i]
}

// record returns the words of record a.
func (x *appendIndex) record(a uint32) []uint64 {
	off := int(a & arenaMask)
	return x.words[a>>arenaShift][off : off+x.stride : off+x.stride]
}

// next returns the record after a in its key's chain, or 0.
func (x *appendIndex) next(a uint32) uint32 { return uint32(x.words[a>>arenaShift][a&arenaMask]) }

// diff returns record a's diff.
func (x *appendIndex) diff(a uint32) int64 { return int64(x.words[a>>arenaShift][int(a&arenaMask)+1]) }

// width returns the number of columns of a stored row.
func (x *appendIndex) width() int { return len(x.types) }

// fill writes record a's row into dst (width() datums).
func (x *appendIndex) fill(dst []Datum, a uint32) {
	w := x.record(a)
	if !x.packed {
		i := int(w[2])
		copy(dst, x.boxed[i/appendSlab][i%appendSlab])
		return
	}
	nulls, w := w[2], w[3:]
	dst = dst[:len(x.types)]
	for i, t := range x.types {
		if nulls&(1<<i) != 0 {
			dst[i] = Datum{}
		} else {
			dst[i] = datumOfWord(t, w[i])
		}
	}
}

// alloc returns the address of a new record, growing the arena.
func (x *appendIndex) alloc() uint32 {
	last := len(x.words) - 1
	c := x.words[last]
	if len(c)+x.stride > cap(c) {
		if cap(c) < arenaChunk {
			// The first chunk doubles (and is copied) until it is full
			// size, so a small join holds a small arena.
			c = append(make([]uint64, 0, min(2*cap(c), arenaChunk)), c...)
		}
		if len(c)+x.stride > cap(c) {
			last++
			c = make([]uint64, 0, arenaChunk)
			x.words = append(x.words, nil)
		}
	}
	a := uint32(last<<arenaShift | len(c))
	x.words[last] = c[:len(c)+x.stride]
	return a
}

// insert adds row (the stored row, of width() columns) with diff under
// the key k refers to. A packed index copies the row's datums; any other
// keeps row itself, which the caller must not reuse.
func (x *appendIndex) insert(k keyRef, row []Datum, diff int64) {
	x.insertHint(k, row, diff, probeHint{slot: -1})
}

// probeHint is where a probe found a key in an appendTable: its slot, or
// -1, while the table is tableLen slots long. Slots do not move until the
// table grows, so an insert of the key into the same table may use it
// instead of finding the key again.
type probeHint struct {
	slot     int32
	tableLen int32
}

// insertHint is insert with the slot a probe of x's table found for k.
func (x *appendIndex) insertHint(k keyRef, row []Datum, diff int64, h probeHint) {
	a := x.alloc()
	var s *appendSlot // valid until the table's next insert
	if h.slot >= 0 && int(h.tableLen) == len(x.t.table) {
		s = &x.t.table[h.slot]
	} else {
		s = x.t.slot(k)
	}
	w := x.record(a)
	w[0], w[1] = uint64(s.head[x.side]), uint64(diff)
	s.head[x.side] = a
	x.rows++
	if !x.packed {
		if x.nboxed%appendSlab == 0 {
			x.boxed = append(x.boxed, make([]Row, appendSlab))
		}
		x.boxed[x.nboxed/appendSlab][x.nboxed%appendSlab] = Row(row)
		w[2] = uint64(x.nboxed)
		x.nboxed++
		return
	}
	var nulls uint64
	p := w[3:]
	for j, d := range row {
		if d.IsNull() {
			nulls |= 1 << j
		}
		p[j] = d.word()
	}
	w[2] = nulls
}

// keyDatum0 returns the first datum of the key k refers to.
func keyDatum0(k keyRef) Datum {
	if k.whole {
		return k.src[0]
	}
	return k.src[k.cols[0]]
}

// datumOfWord returns the datum of fixed-width type t whose word() is w.
func datumOfWord(t Type, w uint64) Datum {
	if t == TypeInt64 {
		return Int64(int64(w))
	}
	return Datum{p: tagOf(t), w: w}
}
