package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/remote"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestLaunchWithoutComputeMember checks that placing with no compute
// member up fails at once with a coded error and records nothing.
func TestLaunchWithoutComputeMember(t *testing.T) {
	sys := testkit.NewSystem(t)
	props, err := NewMembership(MembershipConfig{Self: "a", Logger: testkit.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	pid := sys.Root.Spawn(props)
	sys.Root.Send(pid, Topology{Members: []MemberInfo{{ID: "a", Name: "n1", Roles: []string{RoleEnvironment}}}})
	r := remote.NewRemote(sys, remote.Configure("127.0.0.1", 0)) // never started: the launcher must not reach it
	l, err := NewPlacementLauncher(LauncherConfig{Cluster: timely.ClusterId{Kind: timely.User, Value: 1}, System: sys, Membership: pid, Remote: r, Timeout: 5 * time.Second, Logger: testkit.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Launch(context.Background(), timely.ReplicaId{Kind: timely.User, Value: 1}, 1)
	if !errors.Is(err, ErrNoComputeMember) || !errors.Is(err, replica.ErrLaunchFailed) {
		t.Fatalf("launch: %v", err)
	}
	res, err := sys.Root.RequestFuture(pid, GetMembers{}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if v := res.(Nodes); len(v.Members) != 1 || len(v.Members[0].Replicas) != 0 {
		t.Fatalf("view %+v", v)
	}
}

// TestMembershipActor drives the actor with topology snapshots: placements
// show in the view, a member leaving is announced with its replicas, the
// view is JSON, and the node's own id leaving is an eviction.
func TestMembershipActor(t *testing.T) {
	const timeout = 5 * time.Second
	sys := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, sys)
	evicted := make(chan struct{})
	props, err := NewMembership(MembershipConfig{Self: "a", Logger: testkit.QuietLogger(), OnEvicted: func() { close(evicted) }})
	if err != nil {
		t.Fatal(err)
	}
	pid := sys.Root.Spawn(props)
	sys.Root.Send(pid, Subscribe{PID: probe.PID()})
	all := []MemberInfo{
		{ID: "a", Name: "n1", Address: "127.0.0.1:1", Roles: []string{RoleEnvironment}},
		{ID: "b", Name: "n2", Address: "127.0.0.1:2", Roles: []string{RoleCompute}},
		{ID: "c", Name: "n3", Address: "127.0.0.1:3", Roles: []string{RoleCompute}},
	}
	sys.Root.Send(pid, Topology{Members: all})

	cid := timely.ClusterId{Kind: timely.User, Value: 1}
	hosts := map[string]ReplicaKey{}
	for r := uint64(1); r <= 2; r++ {
		key := ReplicaKey{Cluster: cid, Replica: timely.ReplicaId{Kind: timely.User, Value: r}}
		res, err := sys.Root.RequestFuture(pid, Place{Replica: key, Incarnation: 1}, timeout).Result()
		if err != nil {
			t.Fatal(err)
		}
		pr := res.(PlaceResult)
		if pr.Err != nil || pr.Placement.Member == "a" {
			t.Fatalf("place %s: %+v", key, pr)
		}
		hosts[pr.Placement.Member] = key
	}
	if len(hosts) != 2 {
		t.Fatalf("two replicas of one cluster share a member: %v", hosts)
	}

	sys.Root.Send(pid, Topology{Members: all[:2], Blocked: []string{"c"}})
	left := testkit.ExpectMsg[MemberLeft](probe, timeout)
	if left.Member != "c" || len(left.Failed) != 1 || left.Failed[0].Replica != hosts["c"] {
		t.Fatalf("member left %+v, want c with %v", left, hosts["c"])
	}

	res, err := sys.Root.RequestFuture(pid, GetMembers{}, timeout).Result()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(res.(Nodes))
	if err != nil {
		t.Fatal(err)
	}
	var back Nodes
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	byName := map[string]Node{}
	for _, n := range back.Members {
		byName[n.Name] = n
	}
	if back.Self != "a" || !byName["n1"].Self || byName["n3"].State != "blocked" || byName["n3"].DownAt == nil ||
		len(byName["n2"].Replicas) != 1 || byName["n2"].Replicas[0] != hosts["b"].String() {
		t.Fatalf("view as JSON: %s", raw)
	}

	// This node's own id leaves: evicted, announced once.
	sys.Root.Send(pid, Topology{Members: all[1:2]})
	if ev := testkit.ExpectMsg[Evicted](probe, timeout); ev.Member != "a" {
		t.Fatalf("evicted %+v", ev)
	}
	select {
	case <-evicted:
	case <-time.After(timeout):
		t.Fatal("OnEvicted not called")
	}
	sys.Root.Send(pid, Topology{Members: all[1:2], Blocked: []string{"a", "c"}})
	probe.ExpectNoMsg(50 * time.Millisecond)
}

// TestPlacementAvoidsLostEndpoints: a member whose endpoint this process
// lost is not chosen while another compute member is up; when it is the
// only one left it is chosen anyway; a reconnect clears it; a lost
// address that is no member's is not kept.
func TestPlacementAvoidsLostEndpoints(t *testing.T) {
	const timeout = 5 * time.Second
	sys := testkit.NewSystem(t)
	props, err := NewMembership(MembershipConfig{Self: "a", Seed: 7, Logger: testkit.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	pid := sys.Root.Spawn(props)
	sys.Root.Send(pid, Topology{Members: []MemberInfo{
		{ID: "b", Name: "n2", Address: "127.0.0.1:2", Roles: []string{RoleCompute}},
		{ID: "c", Name: "n3", Address: "127.0.0.1:3", Roles: []string{RoleCompute}},
	}})
	cid := timely.ClusterId{Kind: timely.User, Value: 1}
	place := func(r, inc uint64) string {
		t.Helper()
		key := ReplicaKey{Cluster: cid, Replica: timely.ReplicaId{Kind: timely.User, Value: r}}
		res, err := sys.Root.RequestFuture(pid, Place{Replica: key, Incarnation: inc}, timeout).Result()
		if err != nil {
			t.Fatal(err)
		}
		pr := res.(PlaceResult)
		if pr.Err != nil {
			t.Fatalf("place: %v", pr.Err)
		}
		sys.Root.Send(pid, Release{Replica: key})
		return pr.Placement.Member
	}
	sys.Root.Send(pid, EndpointLost{Address: "127.0.0.1:2"})
	sys.Root.Send(pid, EndpointLost{Address: "127.0.0.1:99"}) // a client, say
	for r := uint64(1); r <= 5; r++ {
		if m := place(r, 1); m != "c" {
			t.Fatalf("replica %d placed on %s, whose endpoint is lost", r, m)
		}
	}
	sys.Root.Send(pid, EndpointLost{Address: "127.0.0.1:3"})
	if m := place(1, 2); m == "" {
		t.Fatal("no placement with every member suspect")
	}
	sys.Root.Send(pid, EndpointUp{Address: "127.0.0.1:3"})
	for r := uint64(1); r <= 5; r++ {
		if m := place(r, 3); m != "c" {
			t.Fatalf("replica %d placed on %s; only b is suspect now", r, m)
		}
	}
}
