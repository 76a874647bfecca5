package dataflow

import "math/bits"

// keyHash hashes the key columns cols of row for the tables only this
// package's operators probe with their own hashes: the key table of a join
// stage whose sides are both append-only, and the groups of a min/max
// Reduce over an append-only input. A null, bool, int64 or timestamp datum
// is mixed in a word at a time (Row.hashCols, FNV, takes nine dependent
// multiplications per int64); any other datum by its FNV hash, which
// already hashes equal floats (0 and -0, NaNs) alike. It is not an
// arrangement's hash: never look an arrangement up with it.
func keyHash(row Row, cols []int) uint64 {
	h := uint64(len(cols))
	for _, c := range cols {
		d := row[c]
		switch t := d.Type(); t {
		case 0, TypeBool, TypeInt64, TypeTimestamp:
			h = (bits.RotateLeft64(h, 23) ^ d.word() ^ uint64(t)<<58) * 0xff51afd7ed558ccd
		default:
			h = (bits.RotateLeft64(h, 23) ^ d.hash(fnvOffset)) * 0xff51afd7ed558ccd
		}
	}
	return h ^ h>>29
}
