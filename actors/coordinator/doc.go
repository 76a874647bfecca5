// Package coordinator owns the consumption of change data by one replica
// runtime (ARCHITECTURE.md §6, after ReifyDB's flow CoordinatorActor): it
// routes storage changes to flows, backfills new flows in chunks, and
// commits materialized-view outputs with flow checkpoints atomically.
//
// # Phases
//
// The Core is a plain state machine (no I/O, no clock, no goroutines) in
// one of seven phases, changed only by transition (phase.go), whose doc
// comment draws the allowed paths:
//
//	Idle → RegisteringFlows → SubmittingBatches → *Committing → Idle
//	*Committing → *ReadingBackfill → AdvancingBackfill → *Committing → Idle
//	Idle → Ticking → Idle
//
// The phases marked * wait for the store, the others for the pool. Only
// Idle accepts a Consume; any other phase answers ErrBusy ("coordinator
// busy") and tells the sender Ready once Idle again, so it can retry.
// New flows register with the pool one at a time. A Consume's changes go
// to every active flow whose tables — direct, or reached through the views
// it reads — changed, grouped by worker by the pool; every active flow
// that reads only tables (and views over tables) gets a batch (maybe
// empty) so that its frontier advances.
//
// # Sources and their frontiers
//
// A flow reads tables (which share storage's common upper: the consumed
// upper, advanced by Consume), storage collections (a materialized view's
// shard, each with its own upper, advanced by CollectionProgress, which is
// accepted in any phase) and views of other flows of the runtime (the
// committed output of a materialized flow: a materialized view's, or an
// index's that another dataflow imports; bounded by their producer's
// committed checkpoint). A flow's input frontier is
// the least of these over what it reads (target, backfill.go): a flow
// that reads only tables never waits for a collection, and a runtime that
// computes materialized view M and a flow over M's collection cannot wait
// in a circle, since M's flow reads tables and M's collection advances as
// its sink appends M's committed output. A flow that reads a collection
// (directly or through views) gets no Consume batch: it advances by
// backfill reads up to its input frontier, before and after hydration.
// A collection's reads are served from the changes its progress brought
// while the coordinator keeps them (ReadRequest.Cached) and from storage
// up to that collection's upper otherwise (collection.go). Checkpoints
// stay per flow and commit with the outputs. A flow reading a
// view whose producer is in the same batch (or is not active) is demoted
// to backfilling: it never reads view output that is not committed.
// Backfilling flows advance in rounds of at most Config.BackfillChunk
// versions (default 1000) read through the Store — tables up to the
// consumed upper, views up to their producer's committed checkpoint — and
// become active (hydrated) once caught up. Between rounds the coordinator
// is Idle, so Consumes interleave. Flows with a tick interval are ticked on
// Tick messages.
//
// Every step's outputs (materialized flows' changes) and checkpoints are
// committed in one Store.Commit; a failed commit leaves every checkpoint
// where it was, and the flows of that step are rebuilt by the pool and
// backfill from their checkpoints. Every Consume gets one ConsumeReply, ok
// or an error (ErrBusy, ErrInvalidConsume, ErrCommit).
//
// # Store I/O
//
// The actor (New) never waits in Receive. The Core asks for reads and
// commits as Effects; the actor's storeRunner performs each in a
// goroutine the actor owns (at most the Core's one operation and the
// read of the committed checkpoints the first install needs), every
// store call with a context whose deadline is Config.StoreTimeout, and
// sends the outcome back as a message that feeds the Core (ReadDone,
// Committed). Meanwhile the coordinator answers a Consume (busy),
// Status, DropFlow and the pool's replies; an InstallFlow waits for the
// outcome of a commit in flight, since the flow's checkpoint must be the
// durable one. A call that runs out of time fails with an error naming
// the operation that matches messages.ErrTimeout (a timed-out commit
// answers its Consume with code TIMEOUT), and counts in
// arbor_coordinator_store_timeouts_total{op}. Stopping or restarting the
// actor cancels the operation in flight and waits for its goroutine; an
// outcome that arrives for an earlier incarnation is ignored.
//
// # Messages
//
// Go structs (messages.go): Consume, InstallFlow, DropFlow, Status, Tick,
// AllowCompaction in; ConsumeReply, Ready, InstallFlowReply,
// DropFlowReply, StatusReply, AllowCompactionReply (only to a sender)
// and FlowEvents (frontier advanced, hydrated, failed) out. The
// coordinator, its pool and its runtime live in one process; the runtime
// translates to protobuf. Any other message goes to surface.Unhandled
// (counted, logged once per type, answered with UnknownMessageReply when
// it has a sender).
//
// # Durable layout
//
// ShardStore keeps every materialized output and every checkpoint in one
// persistence shard whose time is a commit sequence number, so one
// CompareAndAppend commits a whole step and a backfilling flow can commit
// output at old times. The coordinator is the shard's only writer; a
// commit that finds another upper writes nothing.
//
// # Compaction of the outputs
//
// Nothing else would ever remove output history, so a long-running
// replica's shard would only grow. The runtime sends AllowCompaction per
// materialized export: the controller's compaction frontier, bounded by
// its own readers of the output (a subscribe's next batch, a
// materialized view's next append), and nothing while a flow it knows
// that reads the output is not installed here. The Core bounds that
// further by the flow's checkpoint and, for every flow reading the output
// as a view, by that reader's committed checkpoint minus one (and by the
// checkpoint of a reader dropped since the last AllowCompaction, which may
// come back from it) (compaction.go), and sends the result with each
// commit (Commit.Compaction). ShardStore folds a view when the updates
// before its frontier exceed what its last fold left (and
// CompactionMin): in the same CompareAndAppend as the commit, it retracts
// them and inserts their consolidated sum at the frontier (pairs that
// cancel vanish), then moves the shard's since to that commit, so the
// backend merges and drops the superseded history and the checkpoints'
// old values (output_compaction.go). A restart at any point finds the
// history before a fold or after it, never half of one; reads after the
// frontier are unchanged, and a read from zero is exact from the frontier
// on. Metrics: arbor_coordinator_output_compacted_updates_total and
// _bytes_total{collection}, output_compaction_frontier{collection},
// output_compaction_failures_total{stage}.
package coordinator
