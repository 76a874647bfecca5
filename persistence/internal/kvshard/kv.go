package kvshard

import "context"

// KeyValue is one stored pair.
type KeyValue struct {
	Key, Value []byte
}

// Range is the half-open key interval [Start, End). When Limit is
// positive, a read returns at most the first Limit pairs of the interval, in
// key order; backends must then stop reading early rather than read the
// whole interval and cut it (this is what makes a seek cheap).
type Range struct {
	Start, End []byte
	Limit      int
}

// Compare is one guard of a transaction: the key's current value must equal
// Value, or the key must be absent when Value is nil.
type Compare struct {
	Key, Value []byte
}

// Op is one write of a transaction: a Put of Key to Value, or, when End is
// non-nil, a delete of every key in [Key, End).
type Op struct {
	Key, Value []byte
	End        []byte
}

// Put returns the op that sets key to value.
func Put(key, value []byte) Op { return Op{Key: key, Value: value} }

// DeleteRange returns the op that deletes every key in [start, end).
func DeleteRange(start, end []byte) Op { return Op{Key: start, End: end} }

// KV is what a backend provides. All methods are safe for concurrent use.
type KV interface {
	// Read returns, from one consistent state, the pairs in each range, in
	// key order.
	Read(ctx context.Context, ranges []Range) ([][]KeyValue, error)
	// Txn applies ops in order, atomically and durably, iff every compare
	// holds. When a compare fails it returns ok=false and the current values
	// of the compared keys (nil for absent), in the order of cmps, read in
	// the same consistent state that failed the compare.
	Txn(ctx context.Context, cmps []Compare, ops []Op) (ok bool, current [][]byte, err error)
	// Watch returns a Watcher that notices changes to key made after Watch
	// returns. It may also wake for other changes.
	Watch(ctx context.Context, key []byte) (Watcher, error)
	// Close releases the backend.
	Close() error
}

// Watcher notices changes. It owns no goroutine of its caller's.
type Watcher interface {
	// Wait blocks until a change happened since the watcher was made or
	// the previous Wait returned, or ctx ends.
	Wait(ctx context.Context) error
	// Close releases the watcher; a blocked Wait returns.
	Close()
}
