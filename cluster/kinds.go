package cluster

import (
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
)

// Roles a node may have (`--roles environment,compute`).
const (
	// RoleEnvironment: the node runs the environment (catalog, storage,
	// controllers).
	RoleEnvironment = "environment"
	// RoleCompute: the node hosts replica runtimes; the Placer only
	// chooses members with this role.
	RoleCompute = "compute"
)

// A protoactor member carries only an id, a host, a port and the cluster
// kinds it hosts, and every provider (automanaged, etcd) publishes those
// kinds to every other member. Arbor publishes a node's name and roles as
// marker kinds: "arbor.role.compute", "arbor.node.<name>". No grain of
// these kinds is ever activated on purpose; one activated by a peer stops
// at once (markerActor).
const (
	roleKindPrefix = "arbor.role."
	nameKindPrefix = "arbor.node."
)

// markerKinds returns the cluster kinds that publish a node's name and
// roles.
func markerKinds(name string, roles []string, props *actor.Props) []*cluster.Kind {
	var kinds []*cluster.Kind
	if name != "" {
		kinds = append(kinds, cluster.NewKind(nameKindPrefix+name, props))
	}
	for _, r := range roles {
		kinds = append(kinds, cluster.NewKind(roleKindPrefix+r, props))
	}
	return kinds
}

// memberInfo decodes a protoactor member: its name and roles from its
// marker kinds (other kinds are ignored), its address host:port.
func memberInfo(m *cluster.Member) MemberInfo {
	info := MemberInfo{ID: m.Id, Address: m.Address()}
	for _, k := range m.Kinds {
		switch {
		case strings.HasPrefix(k, roleKindPrefix):
			info.Roles = append(info.Roles, strings.TrimPrefix(k, roleKindPrefix))
		case strings.HasPrefix(k, nameKindPrefix) && info.Name == "":
			info.Name = strings.TrimPrefix(k, nameKindPrefix)
		}
	}
	slices.Sort(info.Roles)
	info.Roles = slices.Compact(info.Roles)
	if info.Name == "" {
		// A node started without --node-name is known by its address.
		info.Name = info.Address
	}
	return info
}

// markerActor is the grain behind a marker kind: it accepts nothing and
// stops as soon as it starts.
type markerActor struct{}

func (markerActor) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		ctx.Stop(ctx.Self())
	}
}
