// Package instance is the compute controller of one cluster
// (ARCHITECTURE.md §7): the Instance actor drives the cluster's replicas
// through the compute protocol (messages/compute.proto), tracks every
// collection's since and upper, holds reads so that compaction never
// removes what a reader needs, serves peeks and subscribes from whichever
// replica answers first, and keeps the command history (history.go) that
// it reduces and replays to bring a new or restarted replica up to date.
//
// # Shape
//
// Core (core.go) is the state machine; it does no I/O, reads no clock and
// starts no goroutines. Each method is one step; what the step wants done
// is recorded as Effects (effects.go) and handed out by Drain: connections
// to open with a replayed history, commands for replicas stamped with
// their epoch, changes of the instance's read holds on storage, answers to
// peek clients, subscribe batches, log lines. The actor (actor.go, New) is
// a thin shell: it stamps each message with its clock's time, calls the
// core and performs the effects in order. Each replica is a ReplicaState
// child (package replica) that owns the connection to its runtime.
//
// # Messages
//
// The client messages (messages.go) are in-process Go structs:
// CreateDataflow, Subscribe, DropCollections, SetReadPolicy, Peek,
// CancelPeek, AddReplica, RemoveReplica, AllowWrites, RegisterStorage,
// UnregisterStorage (unregister.go), UpdateStorageFrontiers, AcquireReadHold, DowngradeReadHold,
// ReleaseReadHold, Maintain and GetDump. Requests are answered with Reply
// (a coded error or nil), ReadHoldReply or DumpReply. A peek is answered
// with a *messages.ComputePeekResponse and a subscribe's batches are
// *messages.ComputeSubscribeResponse, both protobuf, so their clients may
// be remote.
//
// # Read-only mode and replica errors
//
// Config.ReadOnly starts the instance read-only (an environment awaiting
// promotion): materialized views are installed but get no AllowWrites, so
// they write nothing to their storage collections, until the AllowWrites
// message lifts it (read_only.go). Errors replicas report in
// ComputeStatus are kept per replica and collection (dump) and counted
// (arbor_compute_replica_status_errors_total); a runtime-level
// UNAVAILABLE one without restarted (a lost change-data subscription)
// fails the replica like an ended runtime, and it restarts.
//
// # Invariants
//
//   - A collection's since is the meet of its read holds. A hold never
//     regresses; a compute collection's since never goes back, and is at or
//     after its as_of until it is dropped and released (then empty).
//   - A dataflow holds each input at its own since; hold changes are
//     applied in reverse dependency order so each input's since moves once
//     per step, and each move is announced with AllowCompaction.
//   - Each replica holds the inputs of each compute collection at its
//     reported input frontier (its write frontier while it reports none),
//     from the as_of (or, for a new incarnation, the since) on, until it
//     reports the collection dropped, fails or is removed
//     (replica_holds.go): a lagging replica's inputs are not compacted
//     from under it.
//   - A dataflow is refused if its as_of is before an input's since or its
//     until is not after its as_of; a peek if its time is before the since
//     or at or after its dataflow's until. Refused requests change nothing.
//   - Every accepted peek is answered exactly once: by the first replica to
//     answer (or its target), or by the instance on cancel, timeout,
//     target failure or removal, or stop. Its CancelPeek is sent before
//     its read hold is released.
//   - A subscribe delivers each update once, in contiguous batches, across
//     replicas, and ends once (empty upper, error, or dropped_at).
//   - Responses are only applied from the replica's current epoch
//     (environment epoch, incarnation); frontier regressions are logged and
//     ignored.
//   - A dropped collection is forgotten only when no hold remains and no
//     connected replica reports a non-empty write frontier for it.
package instance
