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

// batchesFrom is the range of batches with lower >= from.
func (k Keys) batchesFrom(from timely.Timestamp) Range {
	return Range{Start: k.Batch(from), End: []byte(k.prefix + "batch0")}
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
