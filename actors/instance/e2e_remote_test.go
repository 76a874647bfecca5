//go:build !race

package instance_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// computeNode is a second actor system on remote loopback where replica
// runtimes are spawned (replica.RegisterRuntimeKind); its outputs shards
// live in its own store.
type computeNode struct {
	t     testing.TB
	sys   *actor.ActorSystem
	rem   *remote.Remote
	store persistence.Store

	mu      sync.Mutex
	outputs map[timely.ReplicaId]persistence.Shard
	down    bool
}

func startNode(t testing.TB, r *rig) *computeNode {
	n := &computeNode{t: t, store: mem.New(), outputs: map[timely.ReplicaId]persistence.Shard{}}
	// The short dead-letter throttle, as in testkit.NewSystem, lets the
	// leak check see a quiet node once it is shut down.
	n.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return testkit.QuietLogger() }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond))
	n.rem = remote.NewRemote(n.sys, testkit.RemoteConfig())
	replica.RegisterRuntimeKind(n.rem, r.runtimes(n.openOutputs, nil))
	n.rem.Start()
	t.Cleanup(n.shutdown)
	return n
}

func (n *computeNode) openOutputs(id timely.ReplicaId) (persistence.Shard, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s, ok := n.outputs[id]; ok {
		return s, nil
	}
	s, err := n.store.OpenShard(context.Background(), "outputs-"+id.String())
	if err == nil {
		n.outputs[id] = s
	}
	return s, err
}

// shutdown stops the node's remote and actor system (and so its
// runtimes), then closes its shards.
func (n *computeNode) shutdown() {
	n.mu.Lock()
	if n.down {
		n.mu.Unlock()
		return
	}
	n.down = true
	n.mu.Unlock()
	surface.ShutdownRemote(n.rem)
	n.sys.Shutdown()
	for _, s := range n.outputs {
		require.NoError(n.t, s.Close())
	}
	require.NoError(n.t, n.store.Close())
}

// remoteReplica routes replica id's launches to whichever node node()
// returns at launch time.
func (r *rig) addRemote(id timely.ReplicaId, node func() *computeNode) {
	r.l.mu.Lock()
	l := &replica.RemoteLauncher{System: r.sys, Remote: r.rem, Address: func(timely.ReplicaId) string { return node().sys.Address() }}
	r.l.by[id] = l
	r.l.mu.Unlock()
	r.closers = append(r.closers, l.Close)
	r.ok(instance.AddReplica{Id: id, Name: id.String()})
}

// TestEndToEndRemote is the Done-when test: storage, an instance
// and two runtimes, r1 in this process and r2 on a second actor system
// over remote loopback; tables, indexes and a materialized view created
// through the instance; rows written through storage; peeks through the
// instance equal the oracle. Then r1's runtime is stopped, and separately
// r2's whole node is shut down (a lost endpoint; the replica relaunches
// on a node started in its place): each comes back as a new incarnation,
// hydrates again, and answers the same.
func TestEndToEndRemote(t *testing.T) {
	r := newRig(t, rigOptions{remote: true})
	var nodeMu sync.Mutex
	node := startNode(t, r)
	current := func() *computeNode { nodeMu.Lock(); defer nodeMu.Unlock(); return node }
	r.addLocal(r1, nil)
	r.addRemote(r2, current)
	r.installAll()
	ts := r.workload(3, 30)
	r.waitHydrated(r1, 1)
	r.waitHydrated(r2, 1)
	require.NotEqual(t, r.sys.Address(), r.l.current(r2).pid.Address, "r2 runs on the other node")
	last := ts[len(ts)-1]
	r.check(nil, ts[0], last)
	r.check(&r1, last)
	r.check(&r2, ts[len(ts)/2], last)

	// A local runtime stopped.
	require.NoError(t, r.sys.Root.StopFuture(r.l.current(r1).pid).Wait())
	more := r.workload(4, 10)
	r.waitHydrated(r1, 2)
	last = more[len(more)-1]
	r.check(&r1, ts[0], last)

	// The remote node shut down: detected as a lost endpoint; the next
	// incarnation launches on a new node.
	old := current()
	old.shutdown()
	nodeMu.Lock()
	node = startNode(t, r)
	nodeMu.Unlock()
	more = r.workload(5, 10)
	r.waitHydrated(r2, 2)
	rec := r.l.current(r2)
	require.Equal(t, current().sys.Address(), rec.pid.Address)
	last = more[len(more)-1]
	r.check(&r2, ts[0], last)
	r.check(nil, last)
	require.Equal(t, "active", r.replicaDump(r2).Status)
}
