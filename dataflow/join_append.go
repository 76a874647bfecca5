package dataflow

// appendIndex is a join side over a monotonic (append-only) input: rows
// grouped by key, each key's rows in arrival order, unconsolidated and
// without times. An insert is a hash lookup and an append; nothing is
// sorted or compacted, because nothing is ever retracted and a join reads
// a side's whole contents (every time so far) anyway. Keys live in
// fixed-size slabs (growing the index never copies them) and are found
// through an open-addressing table of (hash, key index) slots, which costs
// less per probe than a Go map and allocates only when it doubles.
type appendIndex struct {
	table []appendSlot  // a power of two long, at most half full
	slabs [][]appendKey // key i is slabs[i/appendSlab][i%appendSlab]
	n     int32         // keys
	rows  int           // rows held, for Stats
}

// appendSlot is a slot of the table: a key's hash and its index + 1, or
// zero for an empty slot.
type appendSlot struct {
	hash uint64
	idx  int32
}

const appendSlab = 128 // keys per slab: 6 KB, small enough for a small join

func (x *appendIndex) key(i int32) *appendKey { return &x.slabs[i/appendSlab][i%appendSlab] }

type appendKey struct {
	key  Row
	rows []rowDiff
}

func newAppendIndex() *appendIndex { return &appendIndex{table: make([]appendSlot, 64)} }

// slotOf spreads a row hash (FNV, whose low bits alone cluster) over the
// table.
func slotOf(h uint64, mask int) int {
	h *= 0x9e3779b97f4a7c15
	return int(h>>32) & mask
}

// find returns the index of the key k refers to, or -1 and the empty
// slot where it would go.
func (x *appendIndex) find(k keyRef) (int32, int) {
	mask := len(x.table) - 1
	for i := slotOf(k.hash, mask); ; i = (i + 1) & mask {
		s := x.table[i]
		if s.idx == 0 {
			return -1, i
		}
		if s.hash == k.hash && k.matches(x.key(s.idx-1).key) {
			return s.idx - 1, i
		}
	}
}

// grow doubles the table.
func (x *appendIndex) grow() {
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

// lookup returns the rows of the key k refers to, or nil. The caller must
// not keep the slice past the next insert.
func (x *appendIndex) lookup(k keyRef) []rowDiff {
	if i, _ := x.find(k); i >= 0 {
		return x.key(i).rows
	}
	return nil
}

// insert appends k's row (its source row: k refers to the key columns of
// a row) with diff under k's key.
func (x *appendIndex) insert(k keyRef, diff int64) {
	i, slot := x.find(k)
	if i < 0 {
		i = x.n
		if i%appendSlab == 0 {
			x.slabs = append(x.slabs, make([]appendKey, appendSlab))
		}
		x.n++
		*x.key(i) = appendKey{key: k.row()}
		x.table[slot] = appendSlot{hash: k.hash, idx: i + 1}
		if 2*int(x.n) > len(x.table) {
			x.grow()
		}
	}
	ak := x.key(i)
	ak.rows = append(ak.rows, rowDiff{row: k.src, diff: diff})
	x.rows++
}
