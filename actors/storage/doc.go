// Package storage owns Arbor's tables (ARCHITECTURE.md §5): one durable
// persistence shard per table, the timestamp oracle, group commit, CDC
// subscriptions, range reads for backfill, snapshots, and the read holds
// that bound compaction.
//
// # What it owns
//
// One storage actor (New) per node owns a persistence.Store's table shards
// (named "table-<id>", e.g. "table-u7"), a small registry shard
// ("storage-tables") that records each table's schema, whether it is
// append-only and whether it was dropped, so tables survive a restart, and the commit log
// ("storage-txns", see below). It is the only writer of those
// shards. A row is stored as a shard key (a compact, deterministic encoding
// of the row, dataflow.EncodeRowKey) with an empty value; its multiplicity
// is the shard diff.
//
// The logic lives in State, a plain struct with no I/O, no clock reads and
// no goroutines: it validates and stages writes, runs the timestamp oracle,
// plans group commits, tracks subscriptions and read holds, and computes
// each table's compaction target. The actor decodes messages, reads the
// clock, does the shard I/O State plans, and sends what State says to send.
//
// # Messages
//
// The protocol is protobuf (messages/storage.proto, names prefixed
// Storage): replica runtimes on other nodes subscribe to CDC and read
// ranges, and protoactor delivers only protobuf across remote. Requests are
// answered to their sender, so send them with ctx.Request (a subscription
// pushes its batches to that sender, which must be an actor, not a future).
//
//   - StorageCreateTable, StorageDropTable, StorageFrontiers.
//   - StorageWrite → StorageWriteResponse{timestamp} once durable.
//   - StorageSnapshot (contents at a time, across tables),
//     StorageReadRange (changes in [lo, hi) per version: backfill).
//   - StorageSubscribe → StorageSubscribeResponse, then StorageCdcBatch
//     (one per version) and StorageCdcProgress (the new upper), and
//     StorageCdcTableDropped; StorageUnsubscribe.
//   - StorageAcquireReadHold, StorageDowngradeReadHold,
//     StorageReleaseReadHold → StorageReadHoldResponse. An acquire before
//     a since is COMPACTED, or, with at_least, held at the latest since.
//     StorageChangeReadHolds → StorageChangeReadHoldsResponse applies
//     several of those changes in order, one result each, and compacts
//     once after all of them.
//     StorageListReadHolds → StorageListReadHoldsResponse lists the holds
//     whose id starts with a prefix, with their tables, time and owner
//     (changing nothing): a holder that names its holds by incarnation
//     finds what an earlier incarnation left (the environment does at
//     bootstrap).
//   - StorageCreateCollection, StorageAppend (collection.go): storage
//     collections, shards that their producers (a materialized view's
//     replicas) write by compare-and-append at the collection's own upper.
//     They are in the table map (ids, schemas, sinces, holds, drops,
//     snapshots and range reads treat them like tables) but take no part
//     in group commit or the common upper; a collection is subscribed
//     alone, and its CDC progress is its own upper.
//   - StorageCdcEnded tells a subscriber the actor stopped.
//
// Errors travel as the common messages.Error{code, message, object}
// (docs/conventions.md): the sentinels of errors.go are
// messages.NewSentinel values, so messages.ErrorFromWire on the receiving
// side gives an error that errors.Is matches against them; object names
// the table, read hold or subscription concerned. Any other message is
// handled by surface.Unhandled: counted, logged once per type, and
// answered with messages.UnknownMessageReply when it has a sender.
//
// # Waits
//
// Every backend call runs under Config.CallTimeout (the recovery at start
// under Config.OpenTimeout); a passed deadline is a *TimeoutError (code
// TIMEOUT) naming the operation and the table.
//
// A group commit's shard appends run in a goroutine the actor owns and
// report back with a message (group_commit.go), so the actor keeps
// answering frontiers, reads, read holds and new writes while they are in
// flight. At most one group is in flight. A collection append
// (handle_collections.go) touches only its collection's shard, so it runs
// in the actor's turn, bounded by CallTimeout, without waiting for the
// group. Creating or dropping a table
// waits for it, and so does every request that arrives behind such a
// waiting request, so requests still take effect in arrival order
// (StorageFrontiers, which reads only the actor's state, is answered at
// once). Compaction waits too. Stopping or restarting cancels the appends
// and waits for the goroutine.
//
// Snapshots and range reads are planned in the actor's turn and read in
// goroutines the actor owns too (handle_reads.go), each pinning its tables
// at its time so compaction cannot pass it (State.PinRead); a drop waits
// for them. Subscription replay, table changes and compaction do their
// shard I/O in the actor's turn, each call bounded by CallTimeout: a
// frozen backend delays other requests by at most one deadline per call,
// never forever.
//
// # Invariants
//
//   - Validation before writing: a write is decoded and every row checked
//     against its table's schema (arity, types, nulls) before anything is
//     staged; one bad row rejects the whole write with an error naming the
//     table, the row index and the column, and nothing is written.
//   - Append-only tables (StorageCreateTable.append_only, recorded in the
//     registry) only gain rows: a write with a negative diff for one is
//     refused whole with ErrAppendOnly (INVALID_ARGUMENT) naming the table,
//     the row index and the row, even when an insertion in the same write
//     would cancel it, and nothing of the write (its other tables
//     included) is staged. The dataflows that read such a table rely on
//     this (docs/dataflow.md, append-only sources).
//   - The oracle hands out max(now, last+1): commit timestamps strictly
//     increase, across restarts too (last starts at the upper - 1).
//   - A collection's upper moves only by an append whose expected upper
//     is the current one; any other append writes nothing and is answered
//     with the current upper, so a time range is appended at most once.
//   - Group commit: every write staged when a commit starts gets the same
//     timestamp t, and every live table's upper moves from its common value
//     to t+1 (tables without changes get an empty append). Live tables
//     therefore share one upper, and a snapshot at any t < upper is a
//     consistent state of all tables. A write is answered only after every
//     shard append of its group succeeded.
//   - Commit grouping is deterministic under a manual clock: with
//     Config.CommitInterval zero, a commit starts after the writes already
//     in the mailbox (the actor sends itself a commit message behind them);
//     otherwise it starts on each tick of a clock ticker. Writes that
//     arrive while a group is in flight form the next group, which starts
//     when that one is done.
//   - CDC: a subscriber receives every change at versions >= from, one
//     batch per version in increasing order, each followed (eventually) by
//     progress; replay from the past comes from the shards before any live
//     batch, so nothing is missed or repeated.
//   - Compaction: a table's since never passes the least read hold on it
//     (subscriptions hold too); without holds it trails the upper by
//     Config.CompactionWindow versions. A hold on every table (an empty
//     list) holds no collection; a collection is held only by name. Holds
//     of a terminated sender are released.
//   - Atomicity across tables: a group is in every table or in none, even
//     across a crash between its shard appends. Table shards are separate
//     persistence shards, so a group that changes several tables commits
//     through a commit log shard ("storage-txns") first, and a restarted
//     actor completes the last group on any table it missed
//     (commit_log.go).
//   - A failed or timed-out shard append panics the actor (its writers are
//     told the outcome is unknown); the supervisor's restart recovers the uppers
//     from the shards and keeps the subscriptions and read holds (carry.go),
//     replaying to each subscriber the versions it has not received.
//
// # Shared storage and writer fencing
//
// Two environment processes may share one store (shards on etcd) during a
// zero-downtime deploy (fence.go, docs/deploy.md). With Config.Fence (the
// node's catalog token) every group commits through the commit log, and an
// open records the token there; an older writer's next log append loses
// its compare-and-append, its write fails with a *FenceError (FENCED,
// naming both tokens) and nothing of it is written, and the actor refuses
// every later write and calls Config.OnFenced. With Config.ReadOnly the
// actor writes nothing (writes, table changes and collection appends are
// refused with ErrReadOnly, UNAVAILABLE; no compaction), follows the
// writer's commits on each maintenance tick, until the
// in-process Promote message reopens its shards as the writer and replays
// to each subscription what the old writer wrote meanwhile.
package storage
