// Package kvshard implements the persistence.Shard contract once, over a
// small transactional key-value interface (KV) that each backend provides.
//
// Key layout, under the store's prefix, for a shard called <name>:
//
//	shard/<name>/upper              encoded frontier; absent means {0}
//	shard/<name>/since              encoded frontier; absent means {0}
//	shard/<name>/batch/<lower:016x> one appended batch: its upper and updates
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
// DowngradeSince may physically compact: it rewrites every batch whose upper
// is <= the new since into one batch at lower 0, with times advanced to the
// since and consolidated, in one transaction guarded by a compare on the old
// since. It does so only when the mergeable batches add up to at least half
// the size of the existing compacted batch, so that rewriting is amortised.
package kvshard
