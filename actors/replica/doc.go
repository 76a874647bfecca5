// Package replica is the controller side of one compute replica
// (ARCHITECTURE.md §7). Its ReplicaState actor, a child of the cluster's
// Instance actor, holds the connection to the replica's runtime (a PID in
// this process or on another node, obtained from a Launcher), sends it the
// commands of the compute protocol (messages/compute.proto) stamped with
// the connection's epoch, forwards the runtime's responses to the instance,
// and keeps per-collection write, input and output frontiers and hydration
// for introspection.
//
// It watches the runtime: when the runtime terminates or its endpoint is
// lost, or the runtime reports that it restarted empty (ComputeStatus
// restarted: it lost every dataflow), the replica is reported Failed to
// the instance (the restarted runtime is stopped), which asks its
// RestartTracker (restart.go; supervision.Tracker in production) whether
// and when to relaunch it as a new incarnation with its history replayed.
//
// Messages between the instance and a ReplicaState (Connect, Send,
// Response, Failed) are in-process Go structs: both actors live in the
// controller's process; only the runtime may be remote, and it speaks
// protobuf.
//
// The runtime itself is package replica/runtime.
package replica
