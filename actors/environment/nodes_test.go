package environment_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/cluster"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

// getNodes asks for the nodes view and decodes it.
func getNodes(t *testing.T, s *session) environment.NodesView {
	t.Helper()
	r := expect[*messages.ClusterGetNodesResponse](s, &messages.ClusterGetNodes{Conn: s.conn})
	if r.GetError() != nil {
		t.Fatalf("get nodes: %v", messages.ErrorFromWire(r.GetError()))
	}
	var v environment.NodesView
	if err := json.Unmarshal(r.GetJson(), &v); err != nil {
		t.Fatalf("get nodes: %v\n%s", err, r.GetJson())
	}
	return v
}

// A node alone lists itself, with every replica running there; a request
// without a session is refused like any client request.
func TestGetNodesAlone(t *testing.T) {
	r := newComputeRig(t)
	r.setup()
	r.insert(5)
	r.check("big", bigSales())
	noSession := expect[*messages.ClusterGetNodesResponse](r.s, &messages.ClusterGetNodes{})
	requireCode(t, "get nodes without a session", noSession.GetError(), environment.ErrUnknownSession, "connect first")

	var v environment.NodesView
	testkit.Eventually(t, func() bool {
		v = getNodes(t, r.s)
		return len(v.Replicas) == 1 && v.Replicas[0].Hydrated
	}, timeout, "the default replica hydrated")
	if len(v.Members) != 1 || !v.Members[0].Self || v.Members[0].State != "up" {
		t.Fatalf("members of a node alone: %+v", v.Members)
	}
	// The dump shows the same, under "nodes".
	d := expect[*messages.ClientDumpResponse](r.s, &messages.ClientDump{Conn: r.s.conn})
	var dump struct {
		Nodes *environment.NodesView `json:"nodes"`
	}
	if err := json.Unmarshal(d.GetJson(), &dump); err != nil || dump.Nodes == nil || len(dump.Nodes.Replicas) != 1 ||
		dump.Nodes.Replicas[0].Node != v.Members[0].Name {
		t.Fatalf("dump without the replica's node: %s (%v)", d.GetJson(), err)
	}
	rp := v.Replicas[0]
	if rp.Cluster != environment.DefaultClusterName || rp.Replica != environment.DefaultReplicaName ||
		rp.Status != "active" || rp.Incarnation == 0 || rp.Node != v.Members[0].Name {
		t.Fatalf("the default replica: %+v", rp)
	}
}

// In cluster mode the view is the membership actor's, and each replica
// is shown on the member its placement names.
func TestGetNodesFromMembership(t *testing.T) {
	sys := testkit.NewSystem(t)
	membership := testkit.NewProbe(t, sys)
	r := &computeRig{t: t, sys: sys, dir: t.TempDir()}
	r.node = environmenttest.Start(t, sys, r.dir, environmenttest.Options{Compute: true, CompactionWindow: 1 << 40,
		Env: func(c *environment.Config) { c.Membership, c.CallTimeout = membership.PID(), 2*time.Second }})
	r.s = connect(t, sys, r.node.Env, 0)

	// The default cluster's ids, from the dump (which asks the
	// membership too).
	r.s.p.Send(r.s.env, &messages.ClientDump{Conn: r.s.conn})
	testkit.ExpectMsg[cluster.GetMembers](membership, timeout)
	membership.Reply(cluster.Nodes{Self: "m1"})
	d := testkit.ExpectMsg[*messages.ClientDumpResponse](r.s.p, timeout)
	var state struct {
		Clusters []struct {
			Id       string            `json:"id"`
			Replicas map[string]string `json:"replicas"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal(d.GetJson(), &state); err != nil || len(state.Clusters) != 1 {
		t.Fatalf("dump %s: %v", d.GetJson(), err)
	}
	key := state.Clusters[0].Id + "/" + state.Clusters[0].Replicas[environment.DefaultReplicaName]

	r.s.p.Send(r.s.env, &messages.ClusterGetNodes{Conn: r.s.conn})
	testkit.ExpectMsg[cluster.GetMembers](membership, timeout)
	membership.Reply(cluster.Nodes{Self: "m1", Members: []cluster.Node{
		{ID: "m1", Name: "n1", Address: "10.0.0.1:1", State: "up", Self: true, Roles: []string{cluster.RoleEnvironment}},
		{ID: "m2", Name: "n2", Address: "10.0.0.2:1", State: "up", Roles: []string{cluster.RoleCompute}, Replicas: []string{key}},
		{ID: "m3", Name: "n3", Address: "10.0.0.3:1", State: "left", Roles: []string{cluster.RoleCompute}, Replicas: []string{key}},
	}})
	resp := testkit.ExpectMsg[*messages.ClusterGetNodesResponse](r.s.p, timeout)
	if resp.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(resp.GetError()))
	}
	var v environment.NodesView
	if err := json.Unmarshal(resp.GetJson(), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Members) != 3 || v.Self != "m1" {
		t.Fatalf("members: %+v", v.Members)
	}
	if len(v.Replicas) != 1 || v.Replicas[0].Node != "n2" || v.Replicas[0].Address != "10.0.0.2:1" {
		t.Fatalf("the default replica is placed on n2 (n3 left): %s", resp.GetJson())
	}

	// A membership actor that does not answer fails the request with a
	// timeout, not a hang.
	r.s.p.Send(r.s.env, &messages.ClusterGetNodes{Conn: r.s.conn})
	testkit.ExpectMsg[cluster.GetMembers](membership, timeout)
	late := testkit.ExpectMsg[*messages.ClusterGetNodesResponse](r.s.p, timeout)
	requireCode(t, "membership silent", late.GetError(), messages.ErrUnavailable, "membership")
}
