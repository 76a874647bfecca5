package kvshard

import (
	"fmt"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Keys computes the key layout of one shard (see the package doc).
type Keys struct {
	prefix string // "<store prefix>shard/<name>/"
}

// KeysFor returns the layout of the shard called name under storePrefix.
// The name must already be valid (ValidateName).
func KeysFor(storePrefix, name string) Keys {
	return Keys{prefix: storePrefix + "shard/" + name + "/"}
}

// Upper is the key holding the encoded upper.
func (k Keys) Upper() []byte { return []byte(k.prefix + "upper") }

// Since is the key holding the encoded since.
func (k Keys) Since() []byte { return []byte(k.prefix + "since") }

// Batch is the key of the batch appended at lower.
func (k Keys) Batch(lower timely.Timestamp) []byte {
	return fmt.Appendf(nil, "%sbatch/%016x", k.prefix, uint64(lower))
}

// End is the index key of the batch whose upper is f (see the package
// doc): the time as 16 hex digits, or "~" for the closed frontier, which
// sorts after every time.
func (k Keys) End(f timely.Frontier) []byte {
	t, ok := f.Time()
	if !ok {
		return []byte(k.prefix + "end/~")
	}
	return fmt.Appendf(nil, "%send/%016x", k.prefix, uint64(t))
}

// Indexed is the key of the time from which every batch has an end key.
func (k Keys) Indexed() []byte { return []byte(k.prefix + "indexed") }

// batchesFrom is the range of batches with lower >= from.
func (k Keys) batchesFrom(from timely.Timestamp) Range {
	return Range{Start: k.Batch(from), End: []byte(k.prefix + "batch0")}
}

// batchesBetween is the range of batches with lower in [from, hi); a closed
// hi has no bound.
func (k Keys) batchesBetween(from timely.Timestamp, hi timely.Frontier) Range {
	r := k.batchesFrom(from)
	if t, ok := hi.Time(); ok {
		r.End = k.Batch(t)
	}
	return r
}

// firstEndAfter is the range holding the index entry of the first batch
// whose upper is > t: the batch that straddles t, if one does.
func (k Keys) firstEndAfter(t timely.Timestamp) Range {
	return Range{Start: after(k.End(timely.At(t))), End: []byte(k.prefix + "end0"), Limit: 1}
}

// endsThrough is the range of index entries of batches whose upper is <= f.
func (k Keys) endsThrough(f timely.Frontier) Range {
	return Range{Start: []byte(k.prefix + "end/"), End: after(k.End(f))}
}

// batchesThrough is the range of batches with lower <= t.
func (k Keys) batchesThrough(t timely.Timestamp) Range {
	return Range{Start: k.Batch(0), End: after(k.Batch(t))}
}

// single is the range holding exactly key.
func single(key []byte) Range { return Range{Start: key, End: after(key)} }

// after returns the least key greater than key.
func after(key []byte) []byte { return append(append([]byte(nil), key...), 0) }

// ValidateName checks a shard name: 1–128 characters from [A-Za-z0-9._-].
func ValidateName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("%w: %q must be 1 to 128 characters", persistence.ErrInvalidShardName, name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("%w: %q has character %q outside [A-Za-z0-9._-]", persistence.ErrInvalidShardName, name, r)
		}
	}
	return nil
}
