package environment

import (
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/instance"
	arborcluster "github.com/arbor-db/arbor/cluster"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// ClusterGetNodes (arborctl get nodes) answers the cluster's membership
// view (Config.Membership; a node alone shows itself) together with every
// replica of every running cluster: its incarnation, status, hydration
// (every collection it computes hydrated) and the node it runs on, from the
// instances' dumps and the membership's placements. It needs a session;
// it reads and changes nothing, so it does not wait behind DDL.

// NodesView is the JSON of ClusterGetNodesResponse.
type NodesView struct {
	arborcluster.Nodes
	Replicas []ReplicaPlacement `json:"replicas"`
}

// ReplicaPlacement is one replica in NodesView.
type ReplicaPlacement struct {
	Cluster     string `json:"cluster"`
	ClusterId   string `json:"cluster_id"`
	Replica     string `json:"replica"`
	ReplicaId   string `json:"replica_id"`
	Incarnation uint64 `json:"incarnation"`
	Status      string `json:"status"`
	Hydrated    bool   `json:"hydrated"`
	// Node and Address name the member the replica is placed on; empty
	// when it is not placed (launching, failed, or a node alone).
	Node    string `json:"node,omitempty"`
	Address string `json:"address,omitempty"`
}

// nodesGather collects the answers of one ClusterGetNodes.
type nodesGather struct {
	view    NodesView
	pending int
	err     error
}

func (a *envActor) handleGetNodes(ctx actor.Context, m *messages.ClusterGetNodes, sender *actor.PID) {
	fail := func(err error) {
		a.reply(ctx, sender, "get nodes", &messages.ClusterGetNodesResponse{Error: messages.ErrorToWire(err)}, err)
	}
	if _, err := a.session(m.GetConn()); err != nil {
		fail(err)
		return
	}
	a.gatherNodes(ctx, func(v NodesView, err error) {
		if err != nil {
			fail(err)
			return
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			fail(errorf(ErrInternal, "get nodes: %v", err))
			return
		}
		a.reply(ctx, sender, "get nodes", &messages.ClusterGetNodesResponse{Json: b}, nil)
	})
}

// gatherNodes asks the membership actor (when there is one) and every
// running instance, and gives the view to cont in the actor's turn. An
// instance that does not answer within CallTimeout is left out; a
// membership actor that does not answer is an error.
// nodesDumpTimeout bounds the wait for one instance's dump in the nodes
// view (at most CallTimeout). A dump is answered from memory; an instance
// that does not answer within it is stopping (its mailbox is dropped with
// it) or stuck, and the view leaves its cluster out rather than hold every
// dump, and the client's, for the whole CallTimeout.
const nodesDumpTimeout = 2 * time.Second

func (a *envActor) gatherNodes(ctx actor.Context, cont func(NodesView, error)) {
	g := &nodesGather{}
	names := map[timely.ClusterId]string{}
	for _, cl := range a.core.Clusters() {
		names[cl.id] = cl.name
	}
	done := func() {
		g.pending--
		if g.pending > 0 {
			return
		}
		if g.err != nil {
			cont(NodesView{}, g.err)
			return
		}
		cont(a.placeReplicas(g.view), nil)
	}
	g.pending = 1 + len(a.instances)
	if a.cfg.Membership == nil {
		addr := ctx.Self().GetAddress()
		g.view.Nodes = arborcluster.Nodes{Self: addr, Members: []arborcluster.Node{{ID: addr, Name: addr, Address: addr,
			Roles: []string{arborcluster.RoleCompute, arborcluster.RoleEnvironment}, State: "up", Self: true}}}
		done()
	} else {
		a.request(ctx, a.cfg.Membership, arborcluster.GetMembers{}, func(res any, err error) {
			if nodes, ok := res.(arborcluster.Nodes); ok && err == nil {
				g.view.Nodes = nodes
			} else if g.err == nil {
				g.err = errorf(messages.ErrUnavailable, "get nodes: the membership view did not answer: %v", err)
			}
			done()
		})
	}
	for id, pid := range a.instances {
		a.requestWithin(ctx, pid, instance.GetDump{}, min(a.cfg.CallTimeout, nodesDumpTimeout), func(res any, err error) {
			var d instance.Dump
			if r, ok := res.(instance.DumpReply); ok && err == nil && json.Unmarshal(r.JSON, &d) == nil {
				g.view.Replicas = append(g.view.Replicas, replicaPlacements(names[id], id, d)...)
			}
			// A cluster whose instance does not answer is left out, not
			// an error: the view is for an operator looking at a
			// failure.
			done()
		})
	}
}

// replicaPlacements lists the replicas of one instance's dump.
func replicaPlacements(name string, id timely.ClusterId, d instance.Dump) []ReplicaPlacement {
	var out []ReplicaPlacement
	for _, r := range d.Replicas {
		hydrated := true
		for _, c := range r.Collections {
			hydrated = hydrated && c.Hydrated
		}
		out = append(out, ReplicaPlacement{Cluster: name, ClusterId: id.String(), Replica: r.Name, ReplicaId: r.Id,
			Incarnation: r.Incarnation, Status: r.Status, Hydrated: hydrated && r.Status == "active"})
	}
	return out
}

// placeReplicas fills in each replica's node from the members'
// placements and sorts the replicas.
func (a *envActor) placeReplicas(v NodesView) NodesView {
	for i := range v.Replicas {
		r := &v.Replicas[i]
		key := r.ClusterId + "/" + r.ReplicaId
		if a.cfg.Membership == nil && r.Status != "failed" { // a node alone runs every replica
			r.Node, r.Address = v.Members[0].Name, v.Members[0].Address
		}
		for _, mem := range v.Members {
			if mem.State == "up" && slices.Contains(mem.Replicas, key) {
				r.Node, r.Address = mem.Name, mem.Address
			}
		}
	}
	sort.Slice(v.Replicas, func(i, j int) bool {
		x, y := v.Replicas[i], v.Replicas[j]
		if x.Cluster != y.Cluster {
			return x.Cluster < y.Cluster
		}
		return x.Replica < y.Replica
	})
	return v
}
