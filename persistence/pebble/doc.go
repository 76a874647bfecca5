// Package pebble is the embedded persistence backend, Arbor's default: every
// shard of a Store lives in one Pebble database in one directory under the
// node's data dir.
//
// Invariants:
//
//   - One process owns a directory. Open takes Pebble's LOCK file (an fcntl
//     lock, released by the kernel if the process dies) and fails at once
//     with persistence.ErrDataDirInUse when another process, or another Store
//     in this process, holds it.
//   - Every transaction (an append, a since downgrade) is one Pebble batch
//     committed with pebble.Sync: once CompareAndAppend returns nil the append
//     is on disk, and a crash leaves either all of a batch or none of it.
//   - Because one process owns the directory, the compare of a transaction is
//     made under a mutex of the Store, then the batch is committed; no other
//     writer can interleave.
//   - Listeners are woken by the Store itself after each commit (no
//     goroutines).
//
// The key layout is persistence/internal/kvshard's, with no prefix.
package pebble
