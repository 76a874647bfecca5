// Package kvshard implements the persistence.Shard contract once, over a
// small transactional key-value interface (KV) that each backend provides.
//
// Key layout, under the store's prefix, for a shard called <name>:
//
//	shard/<name>/upper              encoded frontier; absent means {0}
//	shard/<name>/since              encoded frontier; absent means {0}
//	shard/<name>/batch/<lower:016x> one appended batch: its upper and updates
//	shard/<name>/end/<upper:016x>   the end index: the lower of the batch
//	                                with this upper ("end/~" for closed)
//	shard/<name>/indexed            every batch with lower >= this time
//	                                has an end key (8 bytes big-endian)
//
// A batch is keyed by the upper it was appended at (its lower), so batches
// sort in time order and never overlap. Invariants:
//
//   - every update in batch/<lower> with upper u has lower <= ts < u, except
//     in the compacted batch batch/0000000000000000 (see below);
//   - the upper key only moves forward, and it moves in the same
//     transaction that writes the batch, guarded by a compare on its old
//     value: this is the whole of CompareAndAppend's atomicity;
//   - an append with no updates writes only the upper;
//   - reads treat an update's time as max(ts, since) ("advanced by since").
//
// Seeking. A read from a time t (Listen's first read, ReadRange) needs the
// batch that straddles t, which has the greatest lower below t. Backends
// only scan forward cheaply (etcd reads a whole range before it sorts it
// descending), so the end index turns that into a forward seek: the first
// end key after t names the straddling batch's lower. CompareAndAppend
// writes a batch's end key in the same transaction as the batch. The
// indexed key is created by the first append of a handle that finds it
// absent (guarded by a compare on its absence); a shard written before the
// index existed therefore has no end keys below it, and reads from below it
// scan from lower 0 as they always did. After that, an older binary must
// not append to the shard: its batches would have no end key.
//
// DowngradeSince may physically compact: it rewrites every batch whose upper
// is <= the new since into one batch at lower 0, with times advanced to the
// since and consolidated, in one transaction guarded by a compare on the old
// since. It does so only when the mergeable batches add up to at least half
// the size of the existing compacted batch, so that rewriting is amortised.
// It deletes the end keys of the batches it merges and writes none for the
// compacted batch: a read from after the since never needs that batch, and
// a read from exactly the since reads every batch from lower 0.
package kvshard
