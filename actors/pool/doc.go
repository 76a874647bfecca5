// Package pool owns the workers of one replica runtime (ARCHITECTURE.md
// §6): the operator state and arrangements of every flow, and the fan-out
// and gathering of the coordinator's requests.
//
// # What it owns
//
// A pool actor (New) spawns N workers (Config.Workers, GOMAXPROCS by
// default) as its children. Flow f lives on worker f % N, which holds the
// flow's running dataflow.Dataflow, its checkpoint (every source update
// before it has been applied) and the peeks waiting on it. The pool keeps a
// registry of every flow's spec and committed checkpoint; it is the only
// state the pool shares with its workers (a mutex guards it) and exists so
// that a restarted worker can rebuild before it reads its mailbox.
//
// # Core and shell
//
// The pool's bookkeeping is a plain state machine, core (core.go): which
// flows are registered, which requests wait on which workers (one gather
// per request), each worker's failures since it last answered, and which
// workers were stopped. It does no I/O and starts no goroutines; each
// method returns effects (effects.go) — a supervision decision, registry
// changes, messages to workers, failed peeks, gathered replies — that the
// actor carries out in that order. Scripted tests (testdata/*.txt) drive
// the core. The actor decodes messages, feeds the core (a worker's panic
// reaches it through HandleFailure, the pool being the workers'
// supervisor) and applies the effects.
//
// # Messages
//
// Go structs (messages.go), because the pool, its workers and the
// coordinator always live in one process; the runtime speaks protobuf to
// the outside. A message of another type gets messages.UnknownMessageReply
// when it has a sender (surface.Unhandled). RegisterFlow, Submit, SubmitToWorker and Tick get exactly
// one reply each, gathered from the workers involved (RegisterFlowReply,
// SubmitReply, TickReply). Committed, Rebuild and DropFlow get none. A Peek
// is routed to the owning worker, which answers PeekReply to its ReplyTo
// from the flow's arrangement at the peek time: at once when since <= t <
// upper, after the frontier passes t when t >= upper, with
// dataflow.ErrCompacted when t < since.
//
// # Invariants
//
//   - A batch is applied only if its From is the flow's checkpoint
//     (ErrCheckpointMismatch otherwise); a failure after the dataflow was
//     touched marks the flow broken until it is rebuilt.
//   - A worker that panics is restarted by the pool, which is its
//     supervisor (the pool actor implements actor.SupervisorStrategy, so it
//     knows which worker failed). The new incarnation rebuilds every flow
//     from its committed checkpoint by replaying the sources through the
//     Reader and discarding the replay's output (it was committed before).
//     The worker's part of every request in flight is answered with
//     ErrWorkerRestarted; the coordinator then backfills those flows.
//   - Every request is answered once, also when a worker dies under it.
//   - A worker that fails more than Config.MaxRestarts times in a row
//     without answering anything (a flow whose rebuild panics) is stopped,
//     not restarted in a hot loop; its part of the requests in flight, and
//     every later request and peek for its flows, fail with
//     ErrWorkerFailed.
//   - A rebuild reads the sources inside the worker's Receive (the worker
//     cannot answer for the flow before it anyway), each Reader call with
//     a deadline of Config.ReadTimeout; a read that runs out of time fails
//     the rebuild with an error matching messages.ErrTimeout and leaves
//     the flow broken until the next Rebuild.
package pool
