// Package persistence owns Arbor's durable shards: the Shard contract, its
// errors, and the helpers every backend shares.
//
// A shard is a durable, totally ordered log of updates (key, value, ts,
// diff) with two frontiers:
//
//   - upper: every update still to come has a time >= upper. The only write
//     is CompareAndAppend, which appends a batch atomically iff the upper is
//     the expected one and moves it to a strictly greater newUpper. A writer
//     that loses the race gets *UpperMismatchError with the current upper and
//     wrote nothing; this is how every durable writer in Arbor is fenced.
//   - since: reads at times >= since are exact. DowngradeSince advances it
//     (never back) and lets the backend compact older history into since.
//
// Reads are Snapshot(asOf), the consolidated contents at one time with
// since <= asOf < upper, and Listen(from), the ordered stream of batches and
// progress from a time onward.
//
// Invariants every backend keeps (checked by persistence/conformance):
// upper and since only advance; an append is all or nothing; an update in
// a batch appended at [lower, upper) has lower <= ts < upper; once upper is
// closed nothing more is appended; a snapshot at t is the same whenever it
// is taken (as long as t stays >= since).
//
// Backends live in subpackages: persistence/mem (tests), persistence/pebble
// (the embedded default) and persistence/etcd (shared consensus). They share
// one implementation of the contract, persistence/internal/kvshard, over a
// small transactional key-value interface, so they differ only in how keys
// are stored and how changes are noticed.
package persistence
