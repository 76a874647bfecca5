// Package environment owns the front door of an Arbor deployment: client
// sessions and the statements they send (ARCHITECTURE.md §9). Its protocol
// is messages/client.proto (prefix Client), served over protoactor remote
// by the actor a node spawns as Name; the client library (package client)
// and arborctl speak it.
//
// What it does, per request:
//
//   - Sessions: ClientConnect names a client actor; the environment watches
//     it and, when it stops or its node is lost, ends the session: its
//     pending peeks are canceled here and in the query tracker
//     (CancelConn). Each session has a statement timeout.
//   - DDL (create and drop table) runs one statement at a time: through
//     the catalog guardian first (an id from the catalog's "user"
//     allocator, unique names, the audit log), then storage. A statement
//     is applied in full or not at all: a create whose storage step fails
//     is rolled back in the catalog. The catalog is the truth: bootstrap
//     makes storage hold exactly the catalog's tables.
//   - Writes are checked against the tables' schemas and sent to storage as
//     one transaction, answered with the commit timestamp. A table created
//     append-only (ClientCreateTable.append_only, kept in its catalog
//     definition and passed to storage, which enforces it too) takes no
//     deletes and no updates: such a write is refused whole with
//     ErrAppendOnly (INVALID_ARGUMENT) naming the table and the row.
//   - Peeks of tables take the persist fast path: a storage snapshot
//     (strict serializable by default, or as_of within the since), then
//     the dataflow package's map-filter-project and finishing. Each is
//     tracked in the query tracker.
//   - Compute (when Config.Launcher is set; without it these answer
//     UNAVAILABLE, ErrNeedsCompute): the environment owns clusters. It
//     spawns one Instance (actors/instance) per catalog cluster as its
//     child, stamped with an epoch from the catalog's fence epoch and its
//     own incarnation, adds the cluster's replicas (runtimes from the
//     node's LauncherFactory), registers every table and reports storage's
//     frontiers at every tick, and applies each instance's read holds on
//     tables to storage (compute.go). Views are named plans whose sources
//     the environment binds by name and type checks (plans.go; a Get of
//     an append-only table is lowered with GetPlan.append_only, every
//     other Get without, whatever the client's plan said); indexes
//     and materialized views are dataflows on a cluster, as_of the latest
//     since of the tables and collections they read (ddl_compute.go). A
//     view is inlined where it is read; a materialized view is not: its
//     readers, on its cluster or another, import its storage collection
//     (mv_import.go: the collection is registered with the other
//     clusters' instances and its frontiers polled with the tables'; on
//     its own cluster the reader's as_of follows a read hold on the
//     view's sink export, and a storage hold on the view's collection
//     bridges the reader's creation: import_hold.go). Drops refuse what
//     others depend on; a drop ends the peeks reading the object through
//     the tracker (CancelByDrop) and drops its dataflow; a dropped table
//     is unregistered from every instance and a dropped materialized
//     view's collection from the other clusters' instances, releasing
//     their holds on it (unregister.go).
//   - Storage read holds are named by incarnation ("env<epoch>/...") and
//     none outlives what needed it (holds.go): a restart leaves the
//     instances' holds to the next incarnation, which releases those it
//     does not know once its dataflows caught up (StorageListReadHolds).
//   - Peeks choose a strategy (compute_peek.go): a table's persist fast
//     path; an index fast path (the view has an index, or the peek names
//     an index or materialized view); or a transient dataflow for a view
//     without one, dropped when the peek ends. A fast-path peek of a
//     dataflow still being installed waits for it within its deadline
//     (install_wait.go).
//   - Subscribes (subscribe.go) stream a collection's changes with
//     progress, with a window of unacknowledged batches and a bounded
//     backlog per subscribe.
//   - Bootstrap creates the cluster "default" with replica "r1" when the
//     catalog has none, and brings back instances, replicas and dataflows.
//
// Restarts and resyncs: sessions live in a value New creates, so a restart
// of the actor by its supervisor keeps them (peeks pending at the time are
// answered UNAVAILABLE; a DDL statement in flight is not answered and its
// client times out). A catalog call whose outcome is unknown (a backend
// error, a timeout) makes the environment bootstrap again before serving
// more, so its objects are the catalog's.
//
// Invariants: Receive never blocks; every catalog and storage call is a
// request whose answer comes back in the actor's turn (ReenterAfter) with a
// deadline (Config.CallTimeout). Every request is answered exactly once,
// with its response type, carrying a coded messages.Error on failure. The
// in-memory objects are the catalog's items as of the environment's last
// commit (it is the catalog's only writer).
//
// Starting a node: spawn the catalog guardian, storage and the query
// tracker (with a TrackerEffects), then the environment with their
// addresses, named Name, then start remote so clients can reach it:
//
//	effects := environment.NewTrackerEffects()
//	tracker, _ := querytracker.Spawn(root, querytracker.Config{Effects: effects})
//	launcher := &replica.LocalLauncher{System: sys, Parent: host,
//		Runtimes: replica.RuntimeConfig{Storage: storagePID, Outputs: outputs}}
//	props, _ := environment.New(environment.Config{Catalog: catalogPID,
//		Storage: storagePID, Tracker: tracker, Effects: effects,
//		Launcher: func(timely.ClusterId, timely.ReplicaId) replica.Launcher { return launcher }})
//	env, _ := root.SpawnNamed(props, environment.Path) // a node spawns it as subsystem Name
//
// The node must stop the runtimes' host after the environment and close the
// replicas' outputs shards after that (environmenttest.Node does).
//
// The tracker's effects messages (peekCanceled, executionEnded) and the
// catalog requests are in-process Go values; everything a client sends is
// protobuf.
//
// Read-only mode (Config.ReadOnly, readonly.go): for a zero-downtime
// deploy the environment bootstraps and hydrates its clusters without
// changing storage and answers every client request, connects included,
// UNAVAILABLE (ErrReadOnly). The in-process PromotionStatus reports
// bootstrap and hydration; Promote makes it reload the catalog and serve.
package environment
