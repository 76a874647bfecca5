// Package node runs one Arbor node in a process: a protoactor actor system
// with remote (behind surface.RemoteGuard), the root guardian
// (actors/node) and every subsystem under it, and the HTTP endpoints
// /metrics, /healthz and /readyz. cmd/node parses flags and calls Start;
// tests and embedders call Start themselves.
//
// # Subsystems
//
// Each is a child of the root guardian, named node/<name>: the catalog
// guardian (SubsystemCatalog), storage on Pebble under <data-dir>/storage
// (SubsystemStorage), the query tracker (SubsystemQueryTracker), the host
// of this node's replica runtimes (SubsystemReplicas), and the environment
// (SubsystemEnvironment, at environment.Path), which owns the compute
// clusters: one instance per catalog cluster, the cluster "default" with
// one replica on a fresh catalog. Each replica's runtime runs under the
// replicas host and keeps its outputs under <data-dir>/compute/<replica
// id>. Node's accessors (Catalog, Storage, QueryTracker, Environment) give
// their PIDs to tests.
//
// The node's own messages (to the monitor and the replicas host) are Go
// structs; neither accepts anything from another process. Storage accepts
// from other nodes only the reads, change data and read holds a remote
// replica runtime needs.
//
// # Start and stop
//
// Start brings the node up in a fixed order and returns once every
// subsystem has answered that it serves; on any error it stops what it
// started and says which step failed. Stop takes it down in reverse order,
// one subsystem at a time, within StopTimeout, abandoning (and logging) a
// step that overruns its share. docs/architecture.md lists the order.
//
// # Readiness
//
// /readyz answers 200 only while the node has started, is not stopping, no
// subsystem has stopped, and every probed subsystem answered its latest
// status probe, healthy, within the probe deadline; otherwise 503 with each
// reason, prefixed by the subsystem's name (readiness.go, monitor.go).
//
// # Zero-downtime deploys
//
// With --storage etcd://... the storage actor's shards live on etcd,
// fenced by the node's catalog token. A node started with --read-only (a
// new deploy generation next to the serving one, on the same etcd catalog
// and storage) opens both without writing and hydrates its clusters;
// GET /promote/status says when it is ready and POST /promote (Promote)
// takes over the catalog, then storage, then serves (deploy.go,
// docs/deploy.md). The old node is fenced and halts.
//
// # Halting
//
// Halted delivers, once, the reason the node must stop on its own: its
// catalog guardian (or, on shared storage, its storage) was fenced by a
// newer node, the catalog guardian stopped
// (the node can no longer write its catalog), or the root guardian stopped.
// Losing any other subsystem makes the node unready but does not halt it.
//
// # Cluster mode
//
// With --join or --cluster-provider (ClusterConfig) the node joins a
// cluster (package cluster; cluster.go): cluster.Start starts its remote,
// behind the same guard and mTLS. A compute node registers the runtime
// kind, whose actor is a runtime host (runtime_host.go): configured by the
// environment node's launcher with a ClusterRuntimeSetup, it runs one
// replica incarnation's runtime over the environment's storage and ends
// itself when its controller or runtime ends, or when retired. On the
// environment node each replica incarnation is placed on a compute member
// (cluster.PlacementLauncher) instead of the replicas host. A node without
// the environment role runs only the replicas host (its Catalog, Storage,
// QueryTracker and Environment are nil). A node whose own member id the
// cluster dropped halts; Stop leaves the cluster first. Member and Nodes
// give the membership and its view.
//
// One node per process: the node sets OpenTelemetry's global meter
// provider, which protoactor reads.
package node
