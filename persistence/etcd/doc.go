// Package etcd is the shared-consensus persistence backend: the shards of a
// Store live under one key prefix in an etcd cluster, so several processes
// (for example two environment processes contending for the catalog) can
// open the same shard and are fenced by its upper.
//
// Invariants:
//
//   - CompareAndAppend is one etcd transaction:
//     If(upper == expected) Then(put upper, put batch) Else(get upper).
//     etcd linearizes transactions, so exactly one of several racing
//     appenders at an upper wins, from any number of processes, and a losing
//     appender learns the current upper from the same transaction.
//   - An append must fit in one etcd request: the Store refuses appends
//     larger than MaxTxnBytes (default 1 MiB, under etcd's 1.5 MiB request
//     limit) with persistence.ErrTooLarge.
//   - Reads are one etcd transaction of range gets, so a snapshot is one
//     consistent (linearizable) state.
//   - Listeners use etcd Watch on the shard's upper key, started at the
//     revision after a read, so no append is missed; each wake-up re-reads
//     the shard. A watch that etcd cancels (for example after history
//     compaction) is re-established and the listener re-reads.
//
// Key layout, under the prefix (which the Store ends with "/"):
// shard/<name>/upper, shard/<name>/since, shard/<name>/batch/<lower:016x>
// (see persistence/internal/kvshard). Values are binary.
package etcd
