package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/labstack/echo"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/timely"
)

// Member is this node's membership in the cluster: protoactor's cluster
// member, its provider, and the membership actor. Start makes one; Stop
// ends it. A Member lives as long as its actor system's member id: to come
// back after Stop or an eviction, the node starts a new actor system (a
// new id) and a new Member.
type Member struct {
	// constant after Start
	cfg        Config
	sys        *actor.ActorSystem
	id         string
	c          *cluster.Cluster
	membership *actor.PID
	sub        *eventstream.Subscription
	httpSrv    *echo.Echo // static provider only
	listener   net.Listener
	evicted    chan struct{}

	stopOnce sync.Once
}

// Start joins the cluster as a new member whose id is sys.ID, and spawns
// the membership actor (named MembershipName) fed by protoactor's
// topology events. sys must have no remote started: protoactor's cluster
// starts it from cfg.Remote. On a compute node it registers
// cfg.RuntimeProps as the remote kind cfg.RuntimeKind, so that placement
// launchers on any node can spawn runtimes here.
//
// Start blocks about one second (protoactor's StartMember sleeps 1s,
// cluster.go:111). An actor system can hold only one Member ever: a
// restarted membership needs a new actor system.
func Start(sys *actor.ActorSystem, cfg Config) (_ *Member, err error) {
	kind, target, err := cfg.fill()
	if err != nil {
		return nil, err
	}
	// protoactor panics when the remote cannot listen, after it has
	// started half the cluster; trying the address first gives a clear
	// error instead.
	if cfg.Remote.Port != 0 {
		addr := net.JoinHostPort(cfg.Remote.Host, strconv.Itoa(cfg.Remote.Port))
		probe, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%w: remote cannot listen on %s: %w", ErrStart, addr, err)
		}
		_ = probe.Close()
	}
	m := &Member{cfg: cfg, sys: sys, id: sys.ID, evicted: make(chan struct{})}
	if kind == providerEtcd {
		// The etcd provider names its member "<cluster>@<system id>"
		// (etcd_provider.go:71-72), the automanaged one by the system
		// id alone.
		m.id = cfg.ClusterName + "@" + sys.ID
	}
	var evictOnce sync.Once

	// The runtime kind goes into the remote config: protoactor's cluster
	// builds the remote from it, so the kind is there before the member
	// is advertised.
	if cfg.RuntimeProps != nil && slices.Contains(cfg.Roles, RoleCompute) {
		props, err := cfg.RuntimeProps()
		if err != nil {
			return nil, fmt.Errorf("%w: runtime props: %v", ErrConfig, err)
		}
		if cfg.Remote.Kinds == nil {
			cfg.Remote.Kinds = map[string]*actor.Props{}
		}
		cfg.Remote.Kinds[cfg.RuntimeKind] = runtimeKindProps(props)
	}

	props, err := NewMembership(MembershipConfig{
		Self: m.id, Seed: cfg.Seed, Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer,
		OnEvicted: func() { evictOnce.Do(func() { close(m.evicted) }) },
	})
	if err != nil {
		return nil, err
	}
	allow, err := surface.AllowRemote(surface.AllowConfig{Actor: "cluster-marker", Logger: cfg.Logger, Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	marker := actor.PropsFromProducer(func() actor.Actor { return markerActor{} }, actor.WithReceiverMiddleware(allow))

	var provider cluster.ClusterProvider
	switch kind {
	case providerStatic:
		provider, err = m.staticProvider()
	case providerEtcd:
		if err = probeEtcd(target, cfg.EtcdDialTimeout); err != nil {
			break
		}
		provider, err = etcd.NewWithConfig(target.prefix, clientv3.Config{Endpoints: target.endpoints, DialTimeout: cfg.EtcdDialTimeout})
	}
	if err != nil {
		m.closeListener()
		return nil, fmt.Errorf("%w: %s provider: %w", ErrStart, kind, err)
	}

	ccfg := cluster.Configure(cfg.ClusterName, provider, disthash.New(), cfg.Remote,
		cluster.WithKinds(markerKinds(cfg.NodeName, cfg.Roles, marker)...))
	if cfg.GossipInterval > 0 {
		ccfg.GossipInterval = cfg.GossipInterval
	}
	if cfg.HeartbeatExpiration > 0 {
		ccfg.HeartbeatExpiration = cfg.HeartbeatExpiration
	}
	if m.cfg.LeaveGrace <= 0 {
		m.cfg.LeaveGrace = 2 * ccfg.GossipInterval
	}

	m.membership, err = sys.Root.SpawnNamed(props, MembershipName)
	if err != nil {
		m.closeListener()
		return nil, fmt.Errorf("%w: spawn membership actor: %w", ErrStart, err)
	}
	m.c = cluster.New(sys, ccfg)
	// Subscribed before the member starts, so that the first topology is
	// seen. The callback runs inside protoactor's MemberList lock
	// (member_list.go:160): it only copies and sends.
	c := m.c
	m.sub = sys.EventStream.Subscribe(func(evt any) {
		switch e := evt.(type) {
		case *remote.EndpointTerminatedEvent:
			sys.Root.Send(m.membership, EndpointLost{Address: e.Address})
			return
		case *remote.EndpointConnectedEvent:
			sys.Root.Send(m.membership, EndpointUp{Address: e.Address})
			return
		}
		t, ok := evt.(*cluster.ClusterTopology)
		if !ok {
			return
		}
		snap := Topology{}
		for _, mem := range t.Members {
			snap.Members = append(snap.Members, memberInfo(mem))
		}
		if c.Remote != nil {
			snap.Blocked = c.GetBlockedMembers().ToSlice()
		}
		sys.Root.Send(m.membership, snap)
	})

	// protoactor panics when the remote cannot listen or the provider
	// cannot start (cluster.go:101-109).
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrStart, p)
			m.abort()
		}
	}()
	m.c.StartMember()
	if m.cfg.NodeName == "" {
		m.cfg.NodeName = sys.Address()
	}
	cfg.Logger.Info("joined the cluster", "member", m.id, "address", sys.Address(), "name", m.cfg.NodeName, "roles", cfg.Roles, "provider", kind)
	return m, nil
}

// staticProvider builds protoactor's automanaged provider over cfg.Join,
// serving its membership endpoint on a listener Arbor binds: protoactor's
// own endpoint listens on every interface (automanaged.go:181), which a
// node with a loopback or private listen address must not do.
func (m *Member) staticProvider() (cluster.ClusterProvider, error) {
	ln := m.cfg.MembershipListener
	if ln == nil {
		addr := m.cfg.MembershipListen
		if addr == "" {
			addr = net.JoinHostPort(m.cfg.Remote.Host, strconv.Itoa(DefaultMembershipPort))
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("membership endpoint: %w", err)
		}
	}
	m.listener = ln
	port := ln.Addr().(*net.TCPAddr).Port
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.Listener = ln
	e.GET("/_health", func(ctx echo.Context) error {
		host, remotePort, err := m.sys.GetHostPort()
		if err != nil || m.c == nil {
			return ctx.NoContent(http.StatusServiceUnavailable)
		}
		return ctx.JSON(http.StatusOK, automanaged.NewNode(m.c.Config.Name, m.sys.ID, host, remotePort, port, m.c.GetClusterKinds()))
	})
	m.httpSrv = e
	// "Testing" is protoactor's name for an endpoint the caller built;
	// the provider then serves that one instead of its own.
	return automanaged.NewWithTesting(m.cfg.Poll, port, e, m.cfg.Join...), nil
}

// ID is this member's protoactor member id: its actor system's id, which
// the etcd provider prefixes with the cluster name.
func (m *Member) ID() string { return m.id }

// Address is this member's remote address, host:port.
func (m *Member) Address() string { return m.sys.Address() }

// Name is this node's name in the view.
func (m *Member) Name() string { return m.cfg.NodeName }

// Membership is the membership actor's PID.
func (m *Member) Membership() *actor.PID { return m.membership }

// Cluster is protoactor's cluster object, for what Arbor does not wrap.
func (m *Member) Cluster() *cluster.Cluster { return m.c }

// Remote is the node's remote, started by the cluster.
func (m *Member) Remote() *remote.Remote { return m.c.Remote }

// Evicted is closed when the membership view sees this member's own id
// leave: the other members will never admit it again (protoactor blocks
// a departed id for good), so the node must Stop and rejoin with a new
// actor system.
func (m *Member) Evicted() <-chan struct{} { return m.evicted }

// Launcher returns a placement launcher for one compute cluster's
// replicas, spawning runtimes of this member's RuntimeKind.
func (m *Member) Launcher(clusterID timely.ClusterId, timeout time.Duration) (*PlacementLauncher, error) {
	return m.NewLauncher(LauncherConfig{Cluster: clusterID, Timeout: timeout})
}

// NewLauncher is Launcher with the rest of LauncherConfig (a Setup for
// the runtimes): the member fills System, Membership, Remote, Kind and
// Logger.
func (m *Member) NewLauncher(cfg LauncherConfig) (*PlacementLauncher, error) {
	cfg.System, cfg.Membership, cfg.Remote, cfg.Kind = m.sys, m.membership, m.c.Remote, m.cfg.RuntimeKind
	if cfg.Logger == nil {
		cfg.Logger = m.cfg.Logger
	}
	return NewPlacementLauncher(cfg)
}

// Stop leaves the cluster and stops what Start started; the actor system
// stays up (the node owns it). It is protoactor's graceful Shutdown
// (cluster.go:141) without its fixed 2s sleep and without stopping the
// actor system: the provider deregisters (peers polling the static
// endpoint, or watching etcd, drop this member), the graceful-leave state
// is gossiped for LeaveGrace, then gossip, identity lookup and remote
// stop. Safe to call more than once.
func (m *Member) Stop() error {
	var err error
	m.stopOnce.Do(func() {
		err = m.c.Config.ClusterProvider.Shutdown(true)
		m.c.Gossip.SetState(cluster.GracefullyLeftKey, &emptypb.Empty{})
		t := m.cfg.Clock.NewTimer(m.cfg.LeaveGrace)
		<-t.C()
		m.c.Gossip.Shutdown()
		m.c.IdentityLookup.Shutdown()
		surface.ShutdownRemote(m.c.Remote)
		m.sys.EventStream.Unsubscribe(m.sub)
		if e := m.sys.Root.StopFuture(m.membership).Wait(); e != nil {
			err = errors.Join(err, fmt.Errorf("stop membership actor: %w", e))
		}
		m.closeListener()
		m.cfg.Logger.Info("left the cluster", "member", m.id)
	})
	return err
}

// abort undoes a Start that panicked half-way. Each step may find its
// part never set up, which protoactor answers with a nil dereference, so
// each is guarded.
func (m *Member) abort() {
	if m.sub != nil {
		m.sys.EventStream.Unsubscribe(m.sub)
	}
	if m.c != nil {
		safely(func() { _ = m.c.Config.ClusterProvider.Shutdown(false) })
		safely(m.c.Gossip.Shutdown)
		safely(func() { m.c.IdentityLookup.Shutdown() })
		if m.c.Remote != nil {
			safely(func() { m.c.Remote.Shutdown(false) })
		}
	}
	if m.membership != nil {
		_ = m.sys.Root.StopFuture(m.membership).Wait()
	}
	m.closeListener()
}

// probeEtcd reads the member prefix once within timeout. protoactor's
// etcd provider makes its first read without a deadline
// (etcd_provider.go:325-327), so an unreachable etcd would hang Start for
// good; this turns that into an error.
func probeEtcd(target etcdTarget, timeout time.Duration) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: target.endpoints, DialTimeout: timeout, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := cli.Get(ctx, target.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		return fmt.Errorf("etcd %v unreachable within %v: %w", target.endpoints, timeout, err)
	}
	return nil
}

func safely(f func()) {
	defer func() { _ = recover() }()
	f()
}

func (m *Member) closeListener() {
	if m.httpSrv != nil {
		_ = m.httpSrv.Close()
	}
	if m.listener != nil {
		_ = m.listener.Close()
	}
}
