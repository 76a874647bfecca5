package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/timely"
)

// The node's compute: one instance per cluster (the "cluster-<name>"
// subsystem, the compute controller), and the replica runtimes this node
// runs, children of the "replicas" subsystem. An instance's launcher
// (launcher.go) asks the replicas host to spawn a runtime for each
// incarnation of a replica; the runtime keeps its outputs and checkpoints
// on Pebble under <data-dir>/compute/<replica>, which the node opens on the
// first launch, keeps across incarnations and closes at Stop.

// The default cluster's ids. The environment, once it exists, records the
// default cluster in the catalog and takes these ids over.
var (
	DefaultClusterId = timely.ClusterId{Kind: timely.User, Value: 1}
	DefaultReplicaId = timely.ReplicaId{Kind: timely.User, Value: 1}
)

// computeStartTimeout bounds adding the default replica at start.
const computeStartTimeout = 10 * time.Second

// nodeCompute is what the node holds for compute.
type nodeCompute struct {
	host    *actor.PID    // the replicas subsystem
	outputs *outputStores // the runtimes' stores

	mu       sync.Mutex
	clusters map[string]*actor.PID // instance by cluster name
	ids      map[timely.ClusterId]string
}

// instance returns the named cluster's instance, or nil.
func (c *nodeCompute) instance(name string) *actor.PID {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clusters[name]
}

// instanceById returns the cluster's instance, or nil.
func (c *nodeCompute) instanceById(id timely.ClusterId) *actor.PID {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clusters[c.ids[id]]
}

// startCompute spawns the replicas host and the default cluster with its
// replica.
func (n *Node) startCompute() error {
	c := &nodeCompute{
		outputs:  &outputStores{dir: filepath.Join(n.cfg.DataDir, "compute"), open: map[timely.ReplicaId]*outputStore{}},
		clusters: map[string]*actor.PID{},
		ids:      map[timely.ClusterId]string{},
	}
	n.compute = c
	props, err := newReplicasHost(n.logger.With("actor", SubsystemReplicas), n.metrics.registry)
	if err != nil {
		return err
	}
	if c.host, err = n.spawnSubsystem(SubsystemReplicas, props); err != nil {
		return err
	}
	return n.startCluster(DefaultCluster, DefaultClusterId, DefaultReplica, DefaultReplicaId)
}

// startCluster spawns a cluster's instance and adds one replica to it.
func (n *Node) startCluster(name string, id timely.ClusterId, replicaName string, replicaId timely.ReplicaId) error {
	subsystem := ClusterSubsystem(name)
	props, err := instance.New(instance.Config{
		Cluster: id, ClusterName: name,
		EnvironmentEpoch: uint64(n.catalog.token.Epoch),
		Launcher:         &runtimeLauncher{node: n, cluster: id},
		Clock:            n.clock,
		Logger:           n.logger,
		Registerer:       n.metrics.registry,
	})
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	// An instance's messages are Go structs, and its replicas' runtimes
	// answer its ReplicaState children, not it.
	allow, err := surface.AllowRemote(surface.AllowConfig{
		Actor: subsystem, Logger: n.logger.With("actor", subsystem), Registerer: n.metrics.registry,
	})
	if err != nil {
		return err
	}
	replicas := []instance.AddReplica{{Id: replicaId, Name: replicaName}}
	pid, err := n.spawnSubsystem(subsystem, props.Configure(actor.WithReceiverMiddleware(allow, readdOnRestart(replicas))))
	if err != nil {
		return err
	}
	n.compute.mu.Lock()
	n.compute.clusters[name], n.compute.ids[id] = pid, name
	n.compute.mu.Unlock()

	res, err := n.system.Root.RequestFuture(pid, replicas[0], computeStartTimeout).Result()
	if err != nil {
		return fmt.Errorf("cluster %s: add replica %s: %w", name, replicaName, err)
	}
	reply, ok := res.(instance.Reply)
	if !ok {
		return fmt.Errorf("cluster %s: add replica %s: unexpected answer %T", name, replicaName, res)
	}
	if err := reply.Error(); err != nil {
		return fmt.Errorf("cluster %s: add replica %s: %w", name, replicaName, err)
	}
	n.logger.Info("cluster started", "cluster", name, "id", id.String(), "replica", replicaName)
	return nil
}

// readdOnRestart is a receiver middleware for a cluster's instance: each
// time the instance restarts (its supervisor's decision after a panic) it
// adds replicas back, since a restarted instance starts from an empty core.
// The first start adds them through Start, which waits for the answer. The
// re-adds are sent without a sender: the instance answers nobody, and a
// refused one changes nothing. Until the environment bootstraps clusters
// from the catalog, this is what keeps the default cluster's replica.
func readdOnRestart(replicas []instance.AddReplica) actor.ReceiverMiddleware {
	starts := 0 // touched only on the instance's goroutine
	return func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(ctx actor.ReceiverContext, env *actor.MessageEnvelope) {
			next(ctx, env)
			if _, ok := env.Message.(*actor.Started); !ok {
				return
			}
			if starts++; starts == 1 {
				return
			}
			for _, r := range replicas {
				ctx.ActorSystem().Root.Send(ctx.Self(), r)
			}
		}
	}
}

// clusterProbe probes a cluster's instance with GetDump: not ready while it
// reports itself stopped, has no replica, or has a replica failing (out of
// restarts).
func clusterProbe(name string, pid *actor.PID) probeTarget {
	return probeTarget{name: name, pid: pid, request: instance.GetDump{}, judge: judgeInstanceDump}
}

func judgeInstanceDump(answer any) (bool, string, bool) {
	r, ok := answer.(instance.DumpReply)
	if !ok {
		return false, "", false
	}
	var d instance.Dump
	if err := json.Unmarshal(r.JSON, &d); err != nil {
		return false, fmt.Sprintf("unreadable dump: %v", err), true
	}
	if d.Stopped {
		return false, "stopped", true
	}
	if len(d.Replicas) == 0 {
		return false, "no replicas", true
	}
	var failing []string
	for _, rd := range d.Replicas {
		if rd.Status == "failing" {
			failing = append(failing, fmt.Sprintf("replica %s (%s) failing: %s", rd.Name, rd.Id, rd.LastError))
		}
	}
	if len(failing) > 0 {
		return false, strings.Join(failing, ", "), true
	}
	return true, "", true
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
