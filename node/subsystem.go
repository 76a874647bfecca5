package node

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/environment"
	rootguardian "github.com/arbor-db/arbor/actors/node"
)

// The subsystems' names under the root guardian, which is spawned as
// "node": the catalog guardian's PID is "node/catalog", and so on. They are
// the names /readyz reports.
const (
	// SubsystemCatalog is the catalog guardian. Losing it halts the node.
	SubsystemCatalog = "catalog"
	// SubsystemStorage is the storage actor (tables on Pebble under
	// <data-dir>/storage).
	SubsystemStorage = "storage"
	// SubsystemQueryTracker is the query tracker.
	SubsystemQueryTracker = "querytracker"
	// SubsystemReplicas hosts the replica runtimes this node runs; each
	// runtime is its child.
	SubsystemReplicas = "replicas"
	// SubsystemEnvironment is the front door (actors/environment), at
	// environment.Path.
	SubsystemEnvironment = environment.Name
)

// spawnTimeout bounds one SpawnSubsystem request at start.
const spawnTimeout = 10 * time.Second

// spawnSubsystem asks the root guardian to spawn props as name and returns
// the subsystem's PID. It waits (bounded) for the guardian's answer: it runs
// in Start, outside any actor.
func (n *Node) spawnSubsystem(name string, props *actor.Props) (*actor.PID, error) {
	res, err := n.system.Root.RequestFuture(n.guardian, &rootguardian.SpawnSubsystem{Name: name, Props: props}, spawnTimeout).Result()
	if err != nil {
		return nil, fmt.Errorf("spawn %s: %w", name, err)
	}
	switch r := res.(type) {
	case *rootguardian.SubsystemSpawned:
		n.started = append(n.started, name)
		return r.PID, nil
	case *rootguardian.SpawnFailed:
		return nil, fmt.Errorf("spawn %s: %w", name, r.Err)
	}
	return nil, fmt.Errorf("spawn %s: unexpected answer %T", name, res)
}
