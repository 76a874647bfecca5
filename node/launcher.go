package node

import (
	"context"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/timely"
)

// runtimeLauncher is a cluster's replica.Launcher: it runs each replica's
// runtime in this process, as a child of the replicas host. This is the one
// place the node builds a runtime.Config.
type runtimeLauncher struct {
	node    *Node
	cluster timely.ClusterId
}

var _ replica.Launcher = (*runtimeLauncher)(nil)

// Launch opens the replica's outputs (once per node run), builds the
// runtime over the node's storage and has the replicas host spawn it. It
// runs on a goroutine the ReplicaState owns, so it may wait, bounded by ctx.
func (l *runtimeLauncher) Launch(ctx context.Context, id timely.ReplicaId, incarnation uint64) (*actor.PID, error) {
	n := l.node
	outputs, err := n.compute.outputs.shard(ctx, id)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s-%s-%d", l.cluster, id, incarnation)
	props, err := runtime.New(runtime.Config{
		Storage: n.storage.pid,
		Outputs: outputs,
		// Storage keys subscriptions by id: one per incarnation, so a new
		// incarnation never collides with its stopping predecessor.
		SubscriptionId: "replica-" + name,
		Clock:          n.clock,
		Registerer:     n.metrics.registry,
		Logger:         n.logger.With("cluster", l.cluster.String(), "replica", id.String(), "incarnation", incarnation),
	})
	if err != nil {
		return nil, err
	}
	return n.spawnRuntime(ctx, name+"-", props)
}

// spawnRuntime asks the replicas host to spawn props and waits for the
// PID, at most spawnTimeout, and not past ctx: a stopping node or
// ReplicaState cancels it. A runtime the host spawns after its launch was
// canceled runs, unowned, until the node stops.
func (n *Node) spawnRuntime(ctx context.Context, prefix string, props *actor.Props) (*actor.PID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	spawned := make(chan *actor.PID, 1)
	n.system.Root.Send(n.compute.host, &spawnRuntime{prefix: prefix, props: props, spawned: spawned})
	wait := n.clock.NewTimer(spawnTimeout)
	defer wait.Stop()
	select {
	case pid := <-spawned:
		return pid, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("spawn runtime %s: %w", prefix, ctx.Err())
	case <-wait.C():
		return nil, fmt.Errorf("spawn runtime %s: the replicas host did not answer within %s", prefix, spawnTimeout)
	}
}
