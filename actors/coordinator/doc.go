// Package coordinator owns the consumption of change data by one replica
// runtime (ARCHITECTURE.md §6, after ReifyDB's flow CoordinatorActor): it
// routes storage changes to flows, backfills new flows in chunks, and
// commits materialized-view outputs with flow checkpoints atomically.
//
// # Phases
//
// The Core is a plain state machine (no I/O, no clock, no goroutines) in
// one of five phases, changed only by transition (phase.go), whose doc
// comment draws the allowed paths:
//
//	Idle → RegisteringFlows → SubmittingBatches → AdvancingBackfill → Idle
//	Idle → Ticking → Idle
//
// Only Idle accepts a Consume; any other phase answers ErrBusy ("coordinator
// busy") and tells the sender Ready once Idle again, so it can retry.
// New flows register with the pool one at a time. A Consume's changes go
// to every active flow whose tables — direct, or reached through the views
// it reads — changed, grouped by worker by the pool; every active flow gets
// a batch (maybe empty) so that its frontier advances. A flow reading a
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
// # Messages
//
// Go structs (messages.go): Consume, InstallFlow, DropFlow, Tick in;
// ConsumeReply, Ready, InstallFlowReply, DropFlowReply and FlowEvents
// (frontier advanced, hydrated, failed) out. The coordinator, its pool and
// its runtime live in one process; the runtime translates to protobuf.
//
// # Durable layout
//
// ShardStore keeps every materialized output and every checkpoint in one
// persistence shard whose time is a commit sequence number, so one
// CompareAndAppend commits a whole step and a backfilling flow can commit
// output at old times. The coordinator is the shard's only writer; a
// commit that finds another upper writes nothing.
package coordinator
