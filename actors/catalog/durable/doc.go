// Package durable is Arbor's durable catalog: the clusters, replicas, items,
// id allocators, configs, settings, audit log and fence token of one
// deployment, kept as a shard of protobuf state updates (messages/
// catalog.proto) on any persistence backend. It lives beside the guardian
// actor (actors/catalog) that is its only user in a running node; it is a
// separate package because it does no actor work and is tested on its own,
// on all three backends.
//
// # State and updates
//
// Each entry is a (CatalogKey, CatalogValue) pair stored as a shard update
// (key bytes, value bytes, ts, ±1). Applying a batch consolidates it, then,
// time by time, applies retractions before insertions: a retraction must
// match the live value byte for byte, an insertion needs its key free, and a
// consolidated diff other than ±1 is refused. A batch that breaks a rule, or
// holds bytes that do not decode or a kind this build does not know, is an
// error (ErrInconsistent, ErrCorrupt) and changes nothing; it never panics.
//
// # Handles, transactions and modes
//
// Open returns a Handle at the shard's current upper. Transaction syncs and
// begins from the handle's state at that upper (Begin does the same without
// reading the shard first, leaving it to the commit's compare-and-append to
// catch any other writer); typed operations (CreateCluster,
// CreateItem, AllocateIds, ...) stage changes and each DDL change stages an
// audit event; Commit appends everything with one compare-and-append at the
// begin upper, at time upper and new upper upper+1. Modes:
//
//   - Writable: opening fences earlier writers; commits are durable.
//   - Savepoint: opening and commits apply in memory only; nothing is
//     written, nobody is fenced, and the writes vanish on reopen.
//   - ReadOnly: nothing is written; empty commits succeed, others fail
//     with ErrReadOnly.
//
// # Fencing
//
// A FenceToken is (deploy generation, epoch), ordered so. A writable open
// syncs, proposes (its generation, durable epoch + 1), and appends it
// (retracting the old token) by compare-and-append; losing the race syncs
// and retries, so of two concurrent opens the later one wins. Each handle
// keeps a FenceableToken state machine (Initializing → Unfenced → Fenced).
// Every read syncs first; a commit that loses its compare-and-append syncs.
// Seeing a larger token fences the handle: the *FenceError (kind
// DeployGeneration when the fencing generation is higher, else Epoch) is
// returned by that call and every later one, and the fenced write never
// became durable because its compare-and-append failed.
//
// # Version guard
//
// A second shard, the version shard, records the newest catalog format
// version that opened the catalog for writing. Every open refuses a catalog
// of a newer version (or one older than MinSupportedVersion) with a
// *VersionError; only a writable open writes the version shard, so a
// read-only tool of any version never fences or disturbs the running
// writer. A version shard that moves to a newer version during a writable
// open's migration fences it with FenceMigrationUpper.
//
// A Handle is not safe for concurrent use; the guardian serializes access.
package durable
