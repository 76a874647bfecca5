package dataflow

// appendIndex is a join side over a monotonic (append-only) input: rows
// grouped by key, each key's rows in arrival order, unconsolidated and
// without times. An insert is a hash lookup and an append; nothing is
// sorted or compacted, because nothing is ever retracted and a join reads
// a side's whole contents (every time so far) anyway. Keys are chained by
// hash through next, in one slice, so a key costs no allocation of its own
// beyond its key row.
type appendIndex struct {
	heads map[uint64]int32 // hash -> index+1 of the last key with that hash
	keys  []appendKey
	rows  int // rows held, for Stats
}

type appendKey struct {
	key  Row
	next int32 // index of the previous key with the same hash, or -1
	rows []rowDiff
}

func newAppendIndex() *appendIndex { return &appendIndex{heads: map[uint64]int32{}} }

// find returns the index of the key equal to row's cols, hashing to h, or -1.
func (x *appendIndex) find(row Row, cols []int, h uint64) int32 {
	for i := x.heads[h] - 1; i >= 0; i = x.keys[i].next {
		if row.equalCols(cols, x.keys[i].key) {
			return i
		}
	}
	return -1
}

// lookup returns the rows whose key equals row's cols, or nil. The caller
// must not keep the slice past the next insert.
func (x *appendIndex) lookup(row Row, cols []int) []rowDiff {
	if i := x.find(row, cols, row.hashCols(cols)); i >= 0 {
		return x.keys[i].rows
	}
	return nil
}

// insert appends row, keyed by its cols, with a positive diff.
func (x *appendIndex) insert(row Row, cols []int, diff int64) {
	h := row.hashCols(cols)
	i := x.find(row, cols, h)
	if i < 0 {
		i = int32(len(x.keys))
		x.keys = append(x.keys, appendKey{key: row.project(cols), next: x.heads[h] - 1})
		x.heads[h] = i + 1
	}
	x.keys[i].rows = append(x.keys[i].rows, rowDiff{row: row, diff: diff})
	x.rows++
}
