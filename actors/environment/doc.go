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
//     one transaction, answered with the commit timestamp.
//   - Peeks of tables take the persist fast path: a storage snapshot
//     (strict serializable by default, or as_of within the since), then
//     the dataflow package's map-filter-project and finishing. Each is
//     tracked in the query tracker.
//   - Views, indexes, materialized views, clusters, replicas and
//     subscribes need the compute controller, which this build does not
//     start: they are answered UNAVAILABLE (ErrNeedsCompute), naming the
//     operation.
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
//	props, _ := environment.New(environment.Config{Catalog: catalogPID,
//		Storage: storagePID, Tracker: tracker, Effects: effects})
//	env, _ := root.SpawnNamed(props, environment.Path) // a node spawns it as subsystem Name
//
// The tracker's effects messages (peekCanceled, executionEnded) and the
// catalog requests are in-process Go values; everything a client sends is
// protobuf.
package environment
