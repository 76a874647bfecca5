// Package runtime is the runtime side of a compute replica (ARCHITECTURE.md
// §2, §6, §7): the actor that hosts one replica's dataflows. It owns a
// coordinator and a worker pool (its children), subscribes to storage
// change data and feeds it to the coordinator, and speaks the Rt*
// protocol.
//
// # Messages
//
// Protobuf (messages/compute_runtime.proto, names prefixed Rt), because a
// runtime may run on another node than the controller driving it:
//
//   - RtInstallFlow{export, plan, sources with schemas, as_of,
//     materialized, tick_interval_ms} → RtInstallFlowResponse. The plan is
//     compiled against the sources' schemas; tables must exist in storage;
//     a view source must be exported by a materialized flow of this
//     runtime. The flow id is derived from the export (FlowIdOf), so a
//     reinstalled flow finds its committed checkpoint after a restart.
//   - RtDropFlow{export} → RtDropFlowResponse.
//   - RtPeek{uuid, collection, timestamp, key, mfp, finishing}: answered as
//     an RtEvent carrying RtPeekResponse.
//   - Events to Config.Events: RtFrontierAdvanced (a flow's committed
//     checkpoint), RtHydrated (backfill complete), RtPeekResponse, RtError.
//
// # Change data
//
// On start the runtime asks storage for the common upper, starts the
// coordinator there and subscribes from it: earlier history is reached by
// backfill. CDC batches are accumulated and sent as one Consume when the
// previous one is answered; a Consume answered busy is re-sent when the
// coordinator says Ready. Table reads for backfill and rebuilds use
// StorageReadRange (storage_reader.go adapts the storage protocol to
// coordinator.TableReader); outputs and checkpoints live in
// Config.Outputs through coordinator.ShardStore. Config.StorageTimeout
// bounds each storage request, and is also the coordinator's
// StoreTimeout and the pool's ReadTimeout.
//
// Compaction: the subscription's read hold is moved forward, after each
// Consume and drop, to the least as_of and committed checkpoint of the
// installed flows (the consumed upper without flows), so storage compacts
// only history no flow can need: a rebuild replays from a flow's as_of, a
// backfill from its checkpoint. A flow must be installed with an as_of at
// or after its tables' since.
//
// Known limit: epochs and incarnations are not checked yet.
package runtime
