// Package runtime is the runtime side of a compute replica (ARCHITECTURE.md
// §2, §6, §7): the actor that hosts one replica's dataflows. It owns a
// coordinator and a worker pool (its children), subscribes to storage
// change data and feeds it to the coordinator, and speaks the compute
// protocol (messages/compute.proto) to its controller.
//
// # Protocol
//
// Commands arrive as messages.ComputeCommand envelopes carrying the
// controller connection's epoch (environment, incarnation). Responses go,
// as messages.ComputeResponse envelopes with the epoch they answer and the
// replica id, to the sender of the current epoch's Hello. Stages:
// creation (Hello, CreateInstance) → initialization (any commands, then
// InitializationComplete) → computation. Connection (connection.go) is
// the pure core that applies these rules and returns Effects:
//
//   - a Hello with a newer epoch resets the connection in any stage; the
//     installed dataflows stay and are reconciled: up to
//     InitializationComplete a CreateDataflow whose description matches an
//     installed one (as_of aside, which may be later as long as the
//     installed one can still be read at it) keeps it, an incompatible one
//     replaces it, and InitializationComplete drops the installed
//     dataflows nobody mentioned (arbor_runtime_reconcile_dataflows_total
//     {outcome=kept|rebuilt|dropped});
//   - a command from an older epoch is logged, counted
//     (arbor_runtime_stale_commands_total) and not answered;
//   - a command its stage does not accept, or that names an unknown
//     collection, is answered with a ComputeStatus error carrying a coded
//     messages.Error (a peek: with its ComputePeekResponse).
//
// # Dataflows as flows
//
// Each export of a dataflow (index export or sink export) is one
// coordinator flow, whose plan is the exported object's plan with the
// objects it builds before it inlined (describe.go). An imported index is
// read, not recomputed: every index flow is materialized (its output
// committed with its checkpoint) and the importing flow reads the index's
// id as a view whose producer is the index's flow, so its input frontier
// follows the producer's committed checkpoint and it rebuilds from the
// committed output; an index that an installed flow reads cannot be
// dropped, and reconciliation drops a replaced dataflow's readers with it,
// readers first, to be rebuilt by their own replayed CreateDataflow. A
// source import is never inlined: a table, or, with collection set, a storage collection
// with its own upper (a materialized view's shard, written by whichever
// cluster computes the view, this runtime included), which the runtime
// reads from storage (collection_feed.go): one CDC subscription and one
// named read hold per collection, its progress and changes fed to the
// coordinator as that source's own frontier and history. An index export arranges its flow by the
// index key; peeks read that arrangement on the owning worker.
// A materialized-view sink is a materialized flow whose output the
// coordinator commits to Config.Outputs (coordinator.ShardStore) with its
// checkpoint and appends to its storage collection (any id) by
// compare-and-append, after AllowWrites (MVSink in sink.go is the pure
// machine that decides each request; mv_sink.go makes them); a flow of
// this replica that imports the sink's id without collection set reads
// the committed output by that id, and peeks may read its arrangement by
// that id. A subscribe sink is a
// materialized flow too: as its checkpoint advances the runtime sends the
// newly committed output as ComputeSubscribeResponse batches [lower,
// upper), and dropped_at when it is dropped. The flow id derives from the
// export (FlowIdOf), so a flow built again finds its committed checkpoint.
//
// Config.StorageTimeout bounds each storage request the runtime waits for,
// and is also the coordinator's StoreTimeout and the pool's ReadTimeout.
// A refused change-data subscription is reported (ComputeStatus error
// naming no collection) and asked again after a backoff on the clock, at
// most Config.SubscribeRetries times, then ErrSubscriptionLost
// (subscription.go); the runtime does not fail on it. A refusal that
// comes before the first Hello is kept (the last few) and reported to the
// first controller that connects.
//
// Reports: ComputeFrontiers carries an export's write frontier (its flow's
// committed checkpoint), input frontier (how far its inputs were read) and
// output frontier (how far its output reached its destination), each sent
// only when it advanced, so none regresses (frontiers.go); the write
// frontier is the empty frontier once AllowCompaction dropped the export.
// ComputeStatus hydration is false when a flow is installed and true when
// its backfill completed.
//
// # Until
//
// A dataflow's until bounds what it produces: no update at or after it
// reaches a peek (a peek at or after it is refused with ErrBeyondUntil), a
// materialized view's appends (its storage collection's upper ends at the
// until) or a subscribe's batches (the batch reaching the until has the
// empty upper: the subscribe is complete). An export's write and output
// frontiers stop at the until: the export is complete there. An until at
// or before the as_of is valid and complete at once (a reduced history
// may replay one). A collection computes only once
// scheduled: its flow goes to the coordinator when its tables are checked
// and its Schedule has come (a flow computes from its install on).
// AllowWrites opens a materialized view's sink (before it nothing is
// appended, not even the upper asked). AllowCompaction raises the time peeks may read at and lets the read
// hold advance; the empty frontier drops the collection's flow. Peeks get
// exactly one ComputePeekResponse: rows, a coded error, or canceled when a
// CancelPeek came first; a persist-target peek waits until storage's
// upper passes its time, reads storage (StorageSnapshot) and applies the
// map-filter-project and finishing.
//
// # Storage I/O
//
// Nothing blocks Receive on storage: the startup frontiers, the table
// check of each CreateDataflow and the snapshot of a persist peek are
// requests made by a short-lived child whose answer returns as a message
// (storage_calls.go), each with a deadline of Config.StorageTimeout on the
// injected clock; a call that times out fails its command with a TIMEOUT
// error (the startup call is retried). Builds wait in order in the
// runtime's state while their check is in flight (BuildQueue,
// build_queue.go, decides which is checked, installed or failed). (Backfill and rebuild
// reads are made by the coordinator and the workers, outside this actor.)
//
// # Change data and read holds
//
// Once storage answered its upper, the runtime starts the coordinator
// there and subscribes from it (the subscription's hold follows its
// progress); earlier history is reached by backfill. A separate named read
// hold (holds.go) keeps what the flows need, the least of their
// checkpoints and of their as_of advanced by AllowCompaction: it is taken
// once, kept across the actor's restarts (its PID survives them), and
// moved forward only in the computation stage. Each imported storage
// collection has its own subscription (SubscriptionId + "/" + id) and its
// own named hold (that + "/hold"), carried over restarts the same way,
// moved to what the flows reading the collection need and released when
// none does (collection_feed.go). The table check of a CreateDataflow
// names its collections too: each must be a collection with the schema
// the import declares (and a table import must not be a collection), or
// the dataflow is refused whole.
//
// # Output shard compaction
//
// The output shard (Config.Outputs) holds every materialized export's
// committed output; the coordinator folds it below what its readers can
// still ask for (coordinator package doc). The runtime sends the
// coordinator, for each materialized export whose bound moved, a
// coordinator.AllowCompaction: the controller's AllowCompaction frontier,
// at most a subscribe's as_of before its first batch and its next
// batch's lower minus one after it, at most a materialized view sink's
// learned collection upper minus one (nothing before the sink learned
// it), and nothing before the computation stage or while a flow of the
// runtime that reads the export's output is not installed in the
// coordinator (output_compaction.go). Config.OutputCompactionMin is the
// least number of updates a fold replaces.
//
// # Failures
//
// A coordinator or pool that panics fails the runtime; its supervisor
// restarts it empty, it tells the last controller (ComputeStatus
// ErrRestarted with restarted set), and that controller replaces the
// connection with a newer epoch and replays (the ReplicaState launches a
// new incarnation); the flows continue from their committed checkpoints.
// A failure while the runtime is stopping makes its supervisor restart
// it, and protoactor lets that restart override the stop: a runtime that
// was asked to stop therefore stops again as soon as it restarts, so its
// controller always sees it terminate.
package runtime
