package node

import (
	"flag"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/arbor-db/arbor/cluster"
)

// ClusterConfig is the node's cluster mode (docs/cluster.md): how it joins
// other nodes and what it does among them. Without Join and
// ClusterProvider the node runs alone, exactly as it does without these
// fields. Each field has a flag and a --config key of the same name.
type ClusterConfig struct {
	// Join lists the membership endpoints (host:port, comma-separated) of
	// every node of a static cluster, this one included (--join).
	Join string `json:"join"`
	// ClusterProvider is etcd://host:port[,host:port][/prefix] for
	// membership through etcd (--cluster-provider); with it Join is not
	// used.
	ClusterProvider string `json:"cluster-provider"`
	// NodeName names the node in the membership view (--node-name);
	// default its advertised remote address.
	NodeName string `json:"node-name"`
	// Roles is "environment", "compute" or both, comma-separated
	// (--roles; default both). A compute-only node runs no catalog,
	// storage, query tracker or environment: only replica runtimes placed
	// on it by the environment node.
	Roles string `json:"roles"`
	// MembershipListen is where the static provider's membership endpoint
	// listens (--membership-listen); it must be this node's entry in
	// Join. Default: the --listen host and port 6330.
	MembershipListen string `json:"membership-listen"`
	// MemberTimeout is how long a member's gossip may go unheard before
	// the others hold it gone for good (--member-timeout, a Go duration;
	// default 10s). Its replicas are then placed on other nodes.
	MemberTimeout string `json:"member-timeout"`
}

// defaultMemberTimeout is MemberTimeout's default: short enough that a
// partitioned node's replicas move within seconds, long enough that a
// loaded machine's pauses do not evict a live node (an eviction is final
// for that member id).
const defaultMemberTimeout = 10 * time.Second

// Enabled reports whether the node joins a cluster.
func (c ClusterConfig) Enabled() bool { return c.Join != "" || c.ClusterProvider != "" }

// RoleList is Roles parsed; both roles when empty.
func (c ClusterConfig) RoleList() []string {
	if strings.TrimSpace(c.Roles) == "" {
		return []string{cluster.RoleCompute, cluster.RoleEnvironment}
	}
	var roles []string
	for _, r := range strings.Split(c.Roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(roles)))
}

// HasRole reports whether the node has role.
func (c ClusterConfig) HasRole(role string) bool { return slices.Contains(c.RoleList(), role) }

// JoinList is Join split at commas.
func (c ClusterConfig) JoinList() []string {
	var out []string
	for _, j := range strings.Split(c.Join, ",") {
		if j = strings.TrimSpace(j); j != "" {
			out = append(out, j)
		}
	}
	return out
}

// memberTimeout is MemberTimeout parsed (validated by validate).
func (c ClusterConfig) memberTimeout() time.Duration {
	if c.MemberTimeout == "" {
		return defaultMemberTimeout
	}
	d, _ := time.ParseDuration(c.MemberTimeout)
	return d
}

// validate checks the cluster fields.
func (c ClusterConfig) validate() error {
	for _, r := range c.RoleList() {
		if r != cluster.RoleEnvironment && r != cluster.RoleCompute {
			return fmt.Errorf("%w: --roles %q: role %q (want environment, compute or both)", ErrBadConfig, c.Roles, r)
		}
	}
	if len(c.RoleList()) == 0 {
		return fmt.Errorf("%w: --roles %q names no role", ErrBadConfig, c.Roles)
	}
	if !c.Enabled() {
		if !c.HasRole(cluster.RoleEnvironment) || !c.HasRole(cluster.RoleCompute) {
			return fmt.Errorf("%w: --roles %q needs --join or --cluster-provider: a node alone must have both roles", ErrBadConfig, c.Roles)
		}
		return nil
	}
	if c.Join != "" && c.ClusterProvider != "" {
		return fmt.Errorf("%w: --join and --cluster-provider are exclusive", ErrBadConfig)
	}
	for _, j := range c.JoinList() {
		if _, _, err := net.SplitHostPort(j); err != nil {
			return fmt.Errorf("%w: --join %q: %v", ErrBadConfig, j, err)
		}
	}
	if c.MembershipListen != "" {
		if _, _, err := net.SplitHostPort(c.MembershipListen); err != nil {
			return fmt.Errorf("%w: --membership-listen %q: %v", ErrBadConfig, c.MembershipListen, err)
		}
	}
	if c.ClusterProvider != "" && !strings.HasPrefix(c.ClusterProvider, "etcd://") {
		return fmt.Errorf("%w: --cluster-provider %q (want etcd://host:port[/prefix])", ErrBadConfig, c.ClusterProvider)
	}
	if strings.ContainsAny(c.NodeName, " /") {
		return fmt.Errorf("%w: --node-name %q has a space or a slash", ErrBadConfig, c.NodeName)
	}
	if c.MemberTimeout != "" {
		if d, err := time.ParseDuration(c.MemberTimeout); err != nil || d <= 0 {
			return fmt.Errorf("%w: --member-timeout %q (want a positive duration such as 10s)", ErrBadConfig, c.MemberTimeout)
		}
	}
	return nil
}

// clusterFlags defines the cluster flags on fs; the returned function
// copies the ones given on the command line into cfg (flags win over the
// --config file).
func clusterFlags(fs *flag.FlagSet) func(set map[string]bool, cfg *ClusterConfig) {
	type flagField struct {
		name  string
		value *string
		field func(*ClusterConfig) *string
	}
	fields := []flagField{
		{"join", fs.String("join", "", "host:port,... membership endpoints of every node of a static cluster, this one included"),
			func(c *ClusterConfig) *string { return &c.Join }},
		{"cluster-provider", fs.String("cluster-provider", "", "etcd://host:port[/prefix] for cluster membership through etcd"),
			func(c *ClusterConfig) *string { return &c.ClusterProvider }},
		{"node-name", fs.String("node-name", "", "this node's name in the cluster (default: its advertised address)"),
			func(c *ClusterConfig) *string { return &c.NodeName }},
		{"roles", fs.String("roles", "", "environment, compute or both (default both); a compute-only node runs only replicas"),
			func(c *ClusterConfig) *string { return &c.Roles }},
		{"membership-listen", fs.String("membership-listen", "", "host:port of this node's membership endpoint, its entry in --join (default: the --listen host, port 6330)"),
			func(c *ClusterConfig) *string { return &c.MembershipListen }},
		{"member-timeout", fs.String("member-timeout", "", "how long a member may go unheard before it is gone for good (default 10s)"),
			func(c *ClusterConfig) *string { return &c.MemberTimeout }},
	}
	return func(set map[string]bool, cfg *ClusterConfig) {
		for _, f := range fields {
			if set[f.name] {
				*f.field(cfg) = *f.value
			}
		}
	}
}
