// Package catalog is the catalog guardian: the one actor of a node that owns
// the durable catalog (package durable, in the subfolder) and serializes every
// access to it.
//
// # Messages
//
// Requests and responses are Go structs, not protobuf: they carry closures
// (Transact.Apply) and immutable snapshots, and never cross nodes, because
// the guardian runs in the same process as the environment that uses it.
//
//   - Transact{Apply} → *TransactResult{Upper, Err}: Apply stages typed
//     changes on a transaction begun at the current upper; the guardian
//     commits it by compare-and-append. An error from Apply aborts it.
//   - GetSnapshot → *SnapshotResult{Snapshot, Err}.
//   - AllocateIds{Allocator, Count} → *IdsAllocated{First, Err}.
//   - GetStatus → *Status{Phase, Token, Upper, Err}.
//   - Fenced{Current, Fence, Err} is published on the actor system's event
//     stream when the node is fenced.
//
// Any other message goes to surface.Unhandled: counted, logged once per
// type, and answered with messages.UnknownMessageReply when it has a
// sender.
//
// # Core
//
// New returns the props; it fails on an incomplete Config. The actor is a
// thin shell over Core, a pure state machine with no I/O, clock or
// goroutines: the phase, the requests waiting for the catalog to open, the
// consecutive failures and the final error. Core changes phase only
// through transition (phase.go draws the paths) and returns Effects that
// the actor carries out: call Config.Open, arm the backoff timer
// (clock.AfterFunc) or the leadership check (clock.Every), answer, publish
// Fenced, halt, or fail. Every backend call the actor makes is bounded by
// Config.CallTimeout; the calls are short and the catalog serializes them
// anyway, so they run in the actor's turn.
//
// # Fencing and halting
//
// Every ConfirmInterval (1 s by default, on the injected clock) the guardian
// confirms that it still owns the catalog by reading the shard's upper and
// syncing if it moved, so a fenced node notices within one interval even
// when it writes nothing. On a *durable.FenceError, from that check or from
// any request, the guardian enters the final Fenced phase: it answers every
// waiting and later request with that error, publishes Fenced, counts a
// fence event, and calls Config.Halt once with a message naming both
// tokens. A catalog of a newer version halts the node the same way
// (phase Halted, no Fenced event).
//
// # Supervision
//
// A backend error whose outcome is unknown (durable.ErrBackend) is answered
// to its requester, then the guardian fails with *TransientFailure. Its
// supervisor (Decider / SupervisorStrategy, or any restart-always parent)
// restarts it; the new incarnation waits InitialBackoff·2^(n-1) (at most
// MaxBackoff) after the n-th consecutive failure, then reopens the catalog
// with a new epoch. Requests that arrive meanwhile wait and are served in
// order once the catalog is open. What survives restarts is held by the
// Core the props share: the failure count, the waiting requests and the
// final error, so a fenced guardian never reopens the catalog, even if
// restarted; and whether it was told to stop, so an incarnation that
// protoactor starts after the Stop (a failure's Restart racing it) opens
// nothing and starts no timer.
//
// # Promotion
//
// A node booting a new deploy generation read-only gives the guardian a
// ReadOnly Config.Open and a writable Config.Promote. The guardian then
// reads and follows the catalog without fencing the serving node; the
// in-process Promote request (answered with PromoteResult) reopens it with
// Config.Promote, which fences the serving node through the catalog's own
// fencing, and every later open (after a restart) is writable. Promote to
// a guardian that is not read-only is ErrNotPromotable; one whose
// generation is older than the catalog's is fenced and halts the node.
//
// # Metrics
//
// NewMetrics registers arbor_catalog_commits_total{result},
// arbor_catalog_commit_duration_seconds, arbor_catalog_syncs_total,
// arbor_catalog_fence_events_total, arbor_catalog_entries{kind} and
// arbor_catalog_opens_total on a prometheus.Registerer, with
// metrics.Register's rule (metrics already registered with the same
// description are reused). New registers the guardian's
// arbor_actor_unknown_messages_total on Config.Registerer, or on the
// registerer of Config.Metrics.
package catalog
