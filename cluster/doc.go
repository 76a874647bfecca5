// Package cluster is Arbor's cluster mode: how nodes join (membership), who
// is up (Arbor's own view of the membership), and where replica runtimes
// run (placement). docs/cluster.md explains the design and the protoactor
// limits it works around.
//
// # Membership
//
// Start joins a node to protoactor's cluster membership: the automanaged
// provider with a static host list by default, etcd in production. A
// node's name and roles travel as marker cluster kinds (kinds.go), the one
// per-member datum every provider publishes. Every start is a new
// protoactor member id: protoactor blocks a departed id for good, so a
// restarted node, or one the others dropped, can only come back as a new
// member.
//
// The membership actor (NewMembership) listens to protoactor's
// ClusterTopology events and keeps Arbor's view: each member id with its
// address, name, roles, when it came up or went down, and the replicas it
// hosts. Its state is Core, a pure machine: View (one transition function,
// Apply, over Up → Left → Blocked) and Placer.
//
// # Placement
//
// Placer chooses a compute member for each replica incarnation (the
// replicas of one cluster on distinct members where possible, ties broken
// by a seeded hash) and records the choice; when a member leaves, its
// placements are returned as failed. PlacementLauncher is a
// replica.Launcher: it asks the membership actor for a member and spawns
// the runtime there with protoactor's remote spawn of the runtime kind,
// which Start registers on compute nodes, made to stop rather than restart
// in place when it fails (runtime_kind.go). With LauncherConfig.Setup the
// spawned actor is sent a ClusterRuntimeSetup (messages/cluster.proto)
// before the launch returns: a remote spawn carries only a kind name, so
// this is how the node's runtime host learns its storage. A spawn or setup
// that fails is tried once more on another member.
//
// # What the node and the instance call
//
//	m, err := cluster.Start(sys, cluster.Config{...}) // join; spawns the membership actor
//	m.Membership()                                    // GetMembers → Nodes (JSON)
//	l, err := m.Launcher(clusterID, timeout)          // a replica.Launcher per compute cluster
//	l, err = m.NewLauncher(LauncherConfig{Setup: ...}) // the same, configuring each runtime host
//	l.Retire(replicaID, incarnation, pid)             // end a superseded incarnation's host
//	l.Release(replicaID)                              // a dropped replica leaves the view
//	<-m.Evicted()                                     // rejoin with a new actor system
//	m.Stop()                                          // leave
//
// # Messages
//
// GetMembers, Place, Release, Subscribe, EndpointLost and EndpointUp (a
// lost connection makes a member suspect: placement avoids it while
// another compute member is up), and what they answer, are
// in-process Go structs: the membership actor accepts nothing from other
// processes (surface.AllowRemote with no types). `arborctl get nodes`
// reaches it through the environment.
//
// Invariants: a member id that left is never up again in the view; a
// replica has at most one recorded placement; every placement names a
// member that was up with the compute role when it was made and is
// forgotten when that member leaves.
package cluster
