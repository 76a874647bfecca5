package cluster

import (
	"context"
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
