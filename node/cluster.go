package node

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/cluster"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/mtls"
	"github.com/arbor-db/arbor/timely"
)

// The node in cluster mode (docs/cluster.md): with --join or
// --cluster-provider it joins the others through package cluster, whose
// Start starts the node's remote (same guard and mTLS as a node alone). A
// node with the compute role registers the runtime kind, whose actor is a
// runtime host (runtime_host.go) configured by the environment node's
// launcher; a node with the environment role places each replica
// incarnation on a compute member (cluster.PlacementLauncher) instead of
// running it in its own process. A compute-only node runs no catalog,
// storage, query tracker or environment.
//
// When the membership view sees this node's own member id leave (the
// others dropped it: a missed poll, an expired heartbeat), the node halts:
// protoactor never admits that id again, so the process must restart to
// rejoin as a new member.

// remoteLaunchTimeout bounds each step of a remote launch (placement,
// spawn, setup); the ReplicaState's launch timeout bounds the whole.
const remoteLaunchTimeout = 4 * time.Second

// nodeCluster is what the node holds in cluster mode.
type nodeCluster struct {
	member     *cluster.Member
	membership atomic.Pointer[actor.PID] // the membership actor, once joined
	hosts      *hostSet                  // runtime hosts on this node
	stopWatch  chan struct{}             // ends the eviction watch
	watchDone  chan struct{}
}

// hostSet tracks the runtime hosts running on this node, so that Stop
// ends them (they are children of protoactor's activator, not of the
// replicas subsystem) before it closes their stores.
type hostSet struct {
	mu   sync.Mutex
	pids map[string]*actor.PID
}

func (s *hostSet) add(pid *actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pids[pid.Id] = pid
}

func (s *hostSet) remove(pid *actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pids, pid.Id)
}

func (s *hostSet) list() []*actor.PID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*actor.PID, 0, len(s.pids))
	for _, p := range s.pids {
		out = append(out, p)
	}
	return out
}

// remoteConfig is the node's remote config: cfg.Listen (a free port kept
// when it is 0), advertised as cfg.Advertise, behind guard, with mutual
// TLS when creds is not nil. protoactor panics when it cannot listen, so
// the address is tried first to give a clear error.
func remoteConfig(cfg Config, guard *surface.RemoteGuard, creds *mtls.Credentials) (*remote.Config, error) {
	host, port, err := listenHostPort(cfg.Listen)
	if err != nil {
		return nil, err
	}
	probe, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (--listen): %w", cfg.Listen, unwrapAddrErr(err))
	}
	if port == 0 {
		// Keep the port the kernel chose, so the advertised address is real.
		port = probe.Addr().(*net.TCPAddr).Port
	}
	probe.Close()
	opts := creds.RemoteOptions(guard.ServerOptions()...)
	if cfg.Advertise != "" {
		opts = append(opts, remote.WithAdvertisedHost(cfg.Advertise))
	}
	rcfg := remote.Configure(host, port, opts...)
	// One dial attempt per endpoint: protoactor retries a failed dial with
	// 2 s sleeps inside the endpoint writer and leaks the gRPC connection of
	// every failed attempt. A peer that cannot be reached is reported at
	// once (its watchers get Terminated) and supervision decides what next.
	rcfg.MaxRetryCount = 1
	return rcfg, nil
}

// joinCluster joins the cluster: cluster.Start starts the remote from the
// node's remote config and, on a compute node, registers the runtime kind.
func (n *Node) joinCluster(guard *surface.RemoteGuard, creds *mtls.Credentials) error {
	rcfg, err := remoteConfig(n.cfg, guard, creds)
	if err != nil {
		return err
	}
	c := &nodeCluster{hosts: &hostSet{pids: map[string]*actor.PID{}}}
	n.cluster = c
	n.ensureOutputs()
	hostProps, err := newRuntimeHostProps(runtimeHostConfig{
		outputs: n.compute.outputs, membership: c.membership.Load, hosts: c.hosts, running: n.metrics.runtimeHosts,
		clock: n.clock, registerer: n.metrics.registry, logger: n.logger,
	})
	if err != nil {
		return err
	}
	cc := n.cfg.ClusterConfig
	ccfg := cluster.Config{
		Remote: rcfg, NodeName: cc.NodeName, Roles: cc.RoleList(),
		Provider: cc.ClusterProvider, Join: cc.JoinList(), MembershipListen: cc.MembershipListen,
		HeartbeatExpiration: cc.memberTimeout(),
		// protoactor's membership runs on real time (polls, gossip,
		// heartbeats); the view's timestamps and the leave grace follow
		// it, not the node's clock, which tests drive by hand.
		Clock:  clock.Real(),
		Logger: n.logger, Registerer: n.metrics.registry,
	}
	if ccfg.Provider == "" {
		ccfg.Provider = "static"
	}
	if cc.HasRole(cluster.RoleCompute) {
		ccfg.RuntimeProps = func() (*actor.Props, error) { return hostProps, nil }
	}
	if c.member, err = cluster.Start(n.system, ccfg); err != nil {
		return fmt.Errorf("join the cluster: %w", err)
	}
	n.remote = c.member.Remote()
	membership := c.member.Membership()
	c.membership.Store(membership)
	c.stopWatch, c.watchDone = make(chan struct{}), make(chan struct{})
	evicted := c.member.Evicted()
	go func() { // owned by the node: ends at Stop (leaveCluster)
		defer close(c.watchDone)
		select {
		case <-evicted:
			n.halt(fmt.Sprintf("this node's cluster member id %s was dropped by the cluster; restart the node to rejoin as a new member", c.member.ID()))
		case <-c.stopWatch:
		}
	}()
	return nil
}

// leaveCluster leaves the cluster (peers see this member go and re-place
// its replicas) and ends the eviction watch, within stopRemoteShare: the
// remote stops with the membership.
func (n *Node) leaveCluster() {
	c := n.cluster
	if c == nil || c.member == nil {
		return
	}
	close(c.stopWatch)
	<-c.watchDone
	if !within(stopRemoteShare, func() {
		if err := c.member.Stop(); err != nil {
			n.logger.Warn("leaving the cluster", "err", err)
		}
	}) {
		n.logger.Warn("leaving the cluster did not finish in time; closing the remote", "waited", stopRemoteShare)
		n.remote.Shutdown(false)
	}
}

// stopHosts stops the runtime hosts on this node (children of protoactor's
// activator, not of a subsystem), waiting at most until deadline.
func (n *Node) stopHosts(deadline time.Time) {
	c := n.cluster
	if c == nil {
		return
	}
	for _, pid := range c.hosts.list() {
		left := time.Until(deadline)
		if left <= 0 {
			n.logger.Warn("no time left to stop the runtime hosts; the actor system stops the rest")
			return
		}
		f := n.system.Root.StopFuture(pid)
		if !within(left, func() { _ = f.Wait() }) {
			n.logger.Warn("a runtime host did not stop in time", "host", pid.Id)
		}
	}
}

// remoteLauncherFor is the environment's launcher factory in cluster
// mode: each incarnation of a replica is placed on a compute member and
// set up with this node's storage.
func (n *Node) remoteLauncherFor(cl timely.ClusterId, _ timely.ReplicaId) replica.Launcher {
	pl, err := n.cluster.member.NewLauncher(cluster.LauncherConfig{
		Cluster: cl, Timeout: remoteLaunchTimeout,
		Setup: &messages.ClusterRuntimeSetup{StorageAddress: n.storage.pid.Address, StorageId: n.storage.pid.Id},
	})
	if err != nil {
		n.logger.Error("no placement launcher", "cluster", cl.String(), "err", err)
		return nil
	}
	return &retiringLauncher{placer: pl}
}

// retiringLauncher launches one replica's incarnations through a
// placement launcher and retires the previous incarnation's runtime host
// before it launches the next: the ReplicaState poisons an abandoned
// runtime, which a runtime on another node never receives (the remote
// guard drops system messages), so without this a runtime cut off by a
// partition would run on when it heals. Launch runs on the ReplicaState's
// launching goroutines.
type retiringLauncher struct {
	placer *cluster.PlacementLauncher

	mu   sync.Mutex
	last uint64     // the latest incarnation launched
	pid  *actor.PID // its runtime host
}

// Release forgets the replica's placement (it was dropped); its runtime
// ends itself when its controller stops.
func (l *retiringLauncher) Release(id timely.ReplicaId) { l.placer.Release(id) }

func (l *retiringLauncher) Launch(ctx context.Context, id timely.ReplicaId, incarnation uint64) (*actor.PID, error) {
	l.mu.Lock()
	prevInc, prevPID := l.last, l.pid
	l.mu.Unlock()
	if prevPID != nil && prevInc < incarnation {
		l.placer.Retire(id, prevInc, prevPID)
	}
	pid, err := l.placer.Launch(ctx, id, incarnation)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if incarnation >= l.last {
		l.last, l.pid = incarnation, pid
	}
	l.mu.Unlock()
	return pid, nil
}

// ensureOutputs creates the replica output stores' registry once.
func (n *Node) ensureOutputs() {
	if n.compute == nil {
		n.compute = &nodeCompute{}
	}
	if n.compute.outputs == nil {
		n.compute.outputs = &outputStores{dir: filepath.Join(n.cfg.DataDir, "compute"), open: map[timely.ReplicaId]*outputStore{}}
	}
}

// Member is the node's cluster membership; nil when the node runs alone.
func (n *Node) Member() *cluster.Member {
	if n.cluster == nil {
		return nil
	}
	return n.cluster.member
}

// Nodes is the membership view (cluster.Nodes), asked of the membership
// actor within timeout; a node alone answers a view of itself.
func (n *Node) Nodes(timeout time.Duration) (cluster.Nodes, error) {
	if n.cluster == nil || n.cluster.member == nil {
		return cluster.Nodes{Self: n.system.ID, Members: []cluster.Node{{
			ID: n.system.ID, Name: n.system.Address(), Address: n.system.Address(),
			Roles: []string{cluster.RoleCompute, cluster.RoleEnvironment}, State: "up", Self: true}}}, nil
	}
	res, err := n.system.Root.RequestFuture(n.cluster.member.Membership(), cluster.GetMembers{}, timeout).Result()
	if err != nil {
		return cluster.Nodes{}, fmt.Errorf("membership view: %w", err)
	}
	nodes, ok := res.(cluster.Nodes)
	if !ok {
		return cluster.Nodes{}, fmt.Errorf("membership view: answered %T", res)
	}
	return nodes, nil
}

// membershipPID is the membership actor; nil when the node runs alone.
func (n *Node) membershipPID() *actor.PID {
	if n.cluster == nil {
		return nil
	}
	return n.cluster.membership.Load()
}
