package dataflow

// appendIndex is a join side over a monotonic (append-only) input: rows
// grouped by key, each key's rows in arrival order, unconsolidated and
// without times. An insert is a hash lookup and an append; nothing is
// sorted or compacted, because nothing is ever retracted and a join reads
// a side's whole contents (every time so far) anyway. Keys are chained by
// hash through next, in fixed-size slabs (growing the index never copies
// the keys), so a key costs no allocation of its own beyond its key row and
// its rows.
type appendIndex struct {
	heads map[uint64]int32 // hash -> index+1 of the last key with that hash
	slabs [][]appendKey    // key i is slabs[i/appendSlab][i%appendSlab]
	n     int32            // keys
	rows  int              // rows held, for Stats
}

const appendSlab = 128 // keys per slab: 7 KB, small enough for a small join

func (x *appendIndex) key(i int32) *appendKey { return &x.slabs[i/appendSlab][i%appendSlab] }

type appendKey struct {
	key  Row
	next int32 // index of the previous key with the same hash, or -1
	rows []rowDiff
}

func newAppendIndex() *appendIndex { return &appendIndex{heads: map[uint64]int32{}} }

// find returns the index of the key k refers to, or -1.
func (x *appendIndex) find(k keyRef) int32 {
	for i := x.heads[k.hash] - 1; i >= 0; i = x.key(i).next {
		if k.matches(x.key(i).key) {
			return i
		}
	}
	return -1
}

// lookup returns the rows of the key k refers to, or nil. The caller must
// not keep the slice past the next insert.
func (x *appendIndex) lookup(k keyRef) []rowDiff {
	if i := x.find(k); i >= 0 {
		return x.key(i).rows
	}
	return nil
}

// insert appends k's row (its source row: k refers to the key columns of
// a row) with diff under k's key.
func (x *appendIndex) insert(k keyRef, diff int64) {
	i := x.find(k)
	if i < 0 {
		i = x.n
		if i%appendSlab == 0 {
			x.slabs = append(x.slabs, make([]appendKey, appendSlab))
		}
		x.n++
		*x.key(i) = appendKey{key: k.row(), next: x.heads[k.hash] - 1}
		x.heads[k.hash] = i + 1
	}
	ak := x.key(i)
	ak.rows = append(ak.rows, rowDiff{row: k.src, diff: diff})
	x.rows++
}
