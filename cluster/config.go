package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/clock"
)

// Config says how a node joins the cluster: the node's flags
// (`--join`, `--cluster-provider`, `--node-name`, `--roles`) and what the
// node builds (its remote config, the runtime factory).
type Config struct {
	// Remote is the node's remote config: listen host and port, advertised
	// host, and the server options of its RemoteGuard and TLS. Required:
	// protoactor's cluster starts the remote itself, so the node passes
	// this instead of starting one.
	Remote *remote.Config

	// NodeName names the node in the view (`--node-name`). Default: the
	// remote address once started.
	NodeName string
	// Roles of the node (`--roles`): RoleEnvironment, RoleCompute.
	// Default: both.
	Roles []string
	// ClusterName separates clusters sharing a provider. Default "arbor".
	ClusterName string

	// Provider is "static" (or empty) for the automanaged provider over
	// Join, or "etcd://host:port[,host:port...][/prefix]".
	Provider string
	// Join lists the membership endpoints (host:port) of every node of a
	// static cluster, this one included (`--join`). Required for static.
	Join []string
	// MembershipListen is where the static provider's membership endpoint
	// listens (host:port; the port must be this node's entry in Join).
	// Default: the remote host and port 6330. A listener already bound may
	// be given instead as MembershipListener (tests bind port 0 first).
	MembershipListen   string
	MembershipListener net.Listener
	// Poll is how often the static provider asks every Join endpoint who
	// is up. Default 1s. A node that misses one poll is gone for good for
	// the node that polled (docs/cluster.md).
	Poll time.Duration
	// EtcdDialTimeout bounds the etcd provider's first connection.
	// Default 5s.
	EtcdDialTimeout time.Duration

	// GossipInterval and HeartbeatExpiration tune protoactor's gossip
	// (defaults 300ms and 20s, protoactor's). A member whose heartbeat is
	// older than HeartbeatExpiration is blocked for good.
	GossipInterval      time.Duration
	HeartbeatExpiration time.Duration
	// LeaveGrace is how long Stop lets gossip carry this member's
	// graceful leave before it stops gossiping. Default: two gossip
	// intervals (protoactor's own Shutdown sleeps 2s; see Member.Stop).
	LeaveGrace time.Duration

	// RuntimeKind is the remote kind replica runtimes are spawned as.
	// Default DefaultRuntimeKind.
	RuntimeKind string
	// RuntimeProps builds the props of a replica runtime; Start registers
	// them as RuntimeKind on compute nodes. Required on a compute node.
	RuntimeProps func() (*actor.Props, error)

	// Seed breaks placement ties. Zero is a valid seed.
	Seed uint64
	// Clock stamps membership changes. Default: the real clock.
	Clock clock.Clock
	// Logger (slog.Default() when nil).
	Logger *slog.Logger
	// Registerer for the membership metrics; nil means unregistered.
	Registerer prometheus.Registerer
}

// DefaultRuntimeKind is the remote kind of replica runtimes.
const DefaultRuntimeKind = "arbor.replica.runtime"

// DefaultMembershipPort is the static provider's membership port when
// MembershipListen is not given.
const DefaultMembershipPort = 6330

// provider kinds
const (
	providerStatic = "static"
	providerEtcd   = "etcd"
)

// etcdTarget is a parsed etcd:// provider URL.
type etcdTarget struct {
	endpoints []string
	prefix    string
}

func (c *Config) fill() (string, etcdTarget, error) {
	if c.Remote == nil {
		return "", etcdTarget{}, fmt.Errorf("%w: no remote config", ErrConfig)
	}
	if len(c.Roles) == 0 {
		c.Roles = []string{RoleEnvironment, RoleCompute}
	}
	for _, r := range c.Roles {
		if r != RoleEnvironment && r != RoleCompute {
			return "", etcdTarget{}, fmt.Errorf("%w: role %q (want %s or %s)", ErrConfig, r, RoleEnvironment, RoleCompute)
		}
	}
	c.Roles = slices.Compact(slices.Sorted(slices.Values(c.Roles)))
	if strings.ContainsAny(c.NodeName, " /") {
		return "", etcdTarget{}, fmt.Errorf("%w: node name %q has a space or a slash", ErrConfig, c.NodeName)
	}
	if c.ClusterName == "" {
		c.ClusterName = "arbor"
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.EtcdDialTimeout <= 0 {
		c.EtcdDialTimeout = 5 * time.Second
	}
	if c.RuntimeKind == "" {
		c.RuntimeKind = DefaultRuntimeKind
	}
	if slices.Contains(c.Roles, RoleCompute) && c.RuntimeProps == nil {
		return "", etcdTarget{}, fmt.Errorf("%w: a compute node needs RuntimeProps", ErrConfig)
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "cluster")
	kind, target, err := parseProvider(c.Provider)
	if err != nil {
		return "", etcdTarget{}, err
	}
	if kind == providerStatic {
		if len(c.Join) == 0 {
			return "", etcdTarget{}, fmt.Errorf("%w: a static cluster needs --join host:port,...", ErrConfig)
		}
		for _, j := range c.Join {
			if _, _, err := net.SplitHostPort(j); err != nil {
				return "", etcdTarget{}, fmt.Errorf("%w: --join %q: %v", ErrConfig, j, err)
			}
		}
	}
	return kind, target, nil
}

// parseProvider reads Config.Provider.
func parseProvider(p string) (string, etcdTarget, error) {
	if p == "" || p == providerStatic {
		return providerStatic, etcdTarget{}, nil
	}
	rest, ok := strings.CutPrefix(p, providerEtcd+"://")
	hosts, path, _ := strings.Cut(rest, "/")
	if !ok || hosts == "" {
		return "", etcdTarget{}, fmt.Errorf("%w: provider %q (want static or etcd://host:port[,host:port][/prefix])", ErrConfig, p)
	}
	t := etcdTarget{prefix: "/" + strings.Trim(path, "/")}
	if t.prefix == "/" {
		t.prefix = "/arbor/members"
	}
	for _, h := range strings.Split(hosts, ",") {
		if _, _, err := net.SplitHostPort(h); err != nil {
			return "", etcdTarget{}, fmt.Errorf("%w: provider %q: endpoint %q: %v", ErrConfig, p, h, err)
		}
		t.endpoints = append(t.endpoints, h)
	}
	return providerEtcd, t, nil
}
