// Package querytracker owns the lifecycle and cancellation of peeks and the
// statement execution log (ARCHITECTURE.md §8).
//
// # What it owns
//
// One actor holds all peek-tracking state: the tracked peeks by uuid and by
// connection, tombstones of recently dropped clusters and collections, and a
// bounded log of statement executions. Callers send commands fire-and-forget
// and never wait for the tracker; it performs its side effects through an
// injected Effects (cancel a compute peek, install a watch set, end a
// statement execution, count canceled peeks), so it is tested alone with a
// fake.
//
// The logic is a plain state machine, Tracker (NewTracker): no I/O, no
// clock reads, no goroutines; every method takes the current time. The
// actor (New, or Spawn for in-process callers, which also returns a
// Handle) reads the clock, decodes, delegates, logs and counts what was
// ignored, and keeps the metrics (registered on Config.Registerer through
// metrics.Into). A Handle sends commands without ever blocking or
// failing; after the tracker stopped it logs, counts and drops them. Its
// Dump is the one call that waits, with a deadline, and is for callers
// outside any actor's Receive.
//
// # Messages
//
// TrackPeek, UntrackPeek, CancelConn, CancelByDrop, ObservePeekNotification
// and, for the statement log, BeginExecution, SetExecutionCluster,
// SetExecutionTimestamp and EndExecution. QtDump is answered with the
// tracker's state as JSON (DumpState).
//
// The commands are defined in protobuf (messages/querytracker.proto, names
// prefixed Qt) because a tracker's PID is an address any node may hold:
// protoactor delivers only protobuf messages across remote, and a plain
// struct sent to a remote PID fails silently until a timeout. Inside the
// package the commands are Go structs over timely's types (TrackPeek, ...):
// the state machine never sees wire types, Decode turns a Qt* message into
// its Go form with a clear error for a malformed one, and in-process
// callers send the Go form through a Handle so that no encode/decode is
// paid on the hot path. The actor accepts both. A message of any other
// type goes to surface.Unhandled: counted, logged once per type, and
// answered with messages.UnknownMessageReply when it has a sender.
//
// # Invariants
//
//   - A peek is in the uuid map iff it is in its connection's set; its
//     execution is live, points back at it and names the same connection
//     (Tracker.CheckInvariants, checked after every step by the tests).
//   - Every command is idempotent; a command for a peek that is not tracked
//     (late or duplicate) changes nothing. Nothing panics on bad or late
//     input: it is ignored with an error naming the problem (errors.go),
//     which the actor logs and counts.
//   - Every execution handle handed to the tracker is retired exactly once,
//     on every path: notification, untrack, connection cancel, drop, failed
//     watch-set install, rejection of an invalid TrackPeek, explicit
//     EndExecution, and actor restart or stop. A second retirement is
//     reported (ErrAlreadyRetired, a metric, Dump); an unretired handle
//     shows in Tracker.Unretired and Dump.
//   - Races resolve without hangs: a drop that arrives before its TrackPeek
//     leaves a tombstone (TTL, default 60 s) that cancels the peek at once
//     with "query could not complete because <name> was dropped"; a cancel
//     that arrives before its TrackPeek ends the connection's live
//     executions, so the peek is canceled when it arrives; a cluster drop
//     ends its peeks without waiting for a notification that may never
//     come; statement-log setters after the end are no-ops.
//   - The execution strategy is recorded at track time and reported in the
//     end reason of a success (EndReasonFor).
//
// The statement log keeps every live execution and the last
// TrackerConfig.LogCapacity ended ones. A stale TrackPeek or setter for an
// execution evicted from that window is no longer recognised as such.
package querytracker
