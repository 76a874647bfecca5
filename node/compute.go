package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/timely"
)

// The node's compute: the host of the replica runtimes this node runs (the
// "replicas" subsystem) and their stores. The environment owns the
// clusters: it spawns one instance per catalog cluster, and each
// instance's launcher (launcher.go, handed to the environment as
// Config.Launcher) asks the replicas host to spawn a runtime for each
// incarnation of a replica. A runtime keeps its outputs and checkpoints on
// Pebble under <data-dir>/compute/<replica>, which the node opens on the
// first launch, keeps across incarnations and closes at Stop.

// nodeCompute is what the node holds for compute.
type nodeCompute struct {
	host    *actor.PID    // the replicas subsystem
	outputs *outputStores // the runtimes' stores
}

// startCompute spawns the replicas host.
func (n *Node) startCompute() error {
	n.ensureOutputs()
	c := n.compute
	props, err := newReplicasHost(n.logger.With("actor", SubsystemReplicas), n.metrics.registry)
	if err != nil {
		return err
	}
	c.host, err = n.spawnSubsystem(SubsystemReplicas, props)
	return err
}

// launcherFor is the environment's launcher factory: a cluster's replicas
// run in this process, or, in cluster mode, on compute members
// (remoteLauncherFor).
func (n *Node) launcherFor(cluster timely.ClusterId, id timely.ReplicaId) replica.Launcher {
	if n.cluster != nil {
		return n.remoteLauncherFor(cluster, id)
	}
	return &runtimeLauncher{node: n, cluster: cluster}
}

// closeCompute closes the runtimes' stores; they have stopped before.
func (n *Node) closeCompute() {
	if n.compute == nil {
		return
	}
	if err := n.compute.outputs.close(); err != nil {
		n.logger.Warn("closing the replica output stores", "err", err)
	}
}

// outputStores are the replica runtimes' stores, one Pebble store per
// replica under dir, opened on a replica's first launch. Safe for
// concurrent use: launchers run on goroutines their ReplicaStates own.
type outputStores struct {
	dir    string
	mu     sync.Mutex
	open   map[timely.ReplicaId]*outputStore
	closed bool
}

type outputStore struct {
	store persistence.Store
	shard persistence.Shard
}

// shard returns the replica's outputs shard, opening its store first.
func (o *outputStores) shard(ctx context.Context, replica timely.ReplicaId) (persistence.Shard, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, errStoresClosed
	}
	if s, ok := o.open[replica]; ok {
		return s.shard, nil
	}
	dir := filepath.Join(o.dir, replica.String())
	store, err := pebble.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("replica %s outputs: %w", replica, err)
	}
	shard, err := store.OpenShard(ctx, "outputs")
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("replica %s outputs under %s: %w", replica, dir, err)
	}
	o.open[replica] = &outputStore{store: store, shard: shard}
	return shard, nil
}

// close closes every store; later launches fail.
func (o *outputStores) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	var errs []error
	for _, s := range o.open {
		errs = append(errs, s.shard.Close(), s.store.Close())
	}
	o.open = nil
	return errors.Join(errs...)
}
