//go:build !race

package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// wait bounds every wait of these tests; nothing asserts a duration.
const wait = 15 * time.Second

// pingRuntime stands in for a replica runtime: it answers a StringValue
// with its own address, so the test sees where it runs.
type pingRuntime struct{}

func (pingRuntime) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*wrapperspb.StringValue); ok {
		ctx.Respond(wrapperspb.String(ctx.Self().Address))
	}
}

type testNode struct {
	name   string
	sys    *actor.ActorSystem
	member *Member
}

// startCluster starts n members on loopback in this process, joined
// through the static (automanaged) provider, each with its own actor
// system. The first has both roles, the others compute only.
func startCluster(t *testing.T, n int) ([]*testNode, []string) {
	t.Helper()
	listeners := make([]net.Listener, n)
	join := make([]string, n)
	for i := range listeners {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners[i], join[i] = ln, ln.Addr().String()
	}
	nodes := make([]*testNode, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range nodes {
		roles := []string{RoleCompute}
		if i == 0 {
			roles = append(roles, RoleEnvironment)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = startNode(t, fmt.Sprintf("n%d", i+1), roles, join, listeners[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start n%d: %v", i+1, err)
		}
	}
	return nodes, join
}

// startNode starts one member in a new actor system, stopped (then its
// system shut down) at the end of the test. It may run on any goroutine.
func startNode(t *testing.T, name string, roles, join []string, ln net.Listener) (*testNode, error) {
	logger := testkit.QuietLogger()
	node := &testNode{
		name: name,
		sys: actor.NewActorSystem(
			actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }),
			actor.WithDeadLetterThrottleInterval(10*time.Millisecond)),
	}
	t.Cleanup(node.sys.Shutdown)
	// One dial attempt per endpoint writer: protoactor's writer leaks the
	// gRPC connection of every failed attempt but the last
	// (remote/endpoint_writer.go:83-90), and peers of a stopped member keep
	// dialing it.
	rcfg := remote.Configure("127.0.0.1", 0)
	rcfg.MaxRetryCount = 1
	var err error
	node.member, err = Start(node.sys, Config{
		Remote:             rcfg,
		NodeName:           node.name,
		Roles:              roles,
		Join:               join,
		MembershipListener: ln,
		Poll:               20 * time.Millisecond,
		GossipInterval:     50 * time.Millisecond,
		RuntimeProps: func() (*actor.Props, error) {
			return actor.PropsFromProducer(func() actor.Actor { return pingRuntime{} }), nil
		},
		Seed:   1,
		Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	m := node.member
	t.Cleanup(func() { _ = m.Stop() })
	return node, nil
}

// members asks a node's membership actor for its view.
func members(t *testing.T, n *testNode) Nodes {
	t.Helper()
	res, err := n.sys.Root.RequestFuture(n.member.Membership(), GetMembers{}, wait).Result()
	if err != nil {
		t.Fatalf("%s: get members: %v", n.name, err)
	}
	return res.(Nodes)
}

func upNames(v Nodes) []string {
	var names []string
	for _, m := range v.Members {
		if m.State == StateUp.String() {
			names = append(names, m.Name)
		}
	}
	return names
}

func waitForUp(t *testing.T, nodes []*testNode, want []string) {
	t.Helper()
	for _, n := range nodes {
		testkit.Eventually(t, func() bool { return slices.Equal(upNames(members(t, n)), want) }, wait,
			"%s never saw exactly %v up; its view: %+v", n.name, want, members(t, n))
	}
}

// TestThreeMembers joins three members on loopback, places three
// replicas of one cluster on them with the placement launcher, shuts one
// member down and checks that the others see it leave, list the replica
// it hosted as failed, and place that replica's next incarnation on a
// member still up; then restarts the stopped member, which comes back
// under a new member id while its old id stays departed.
func TestThreeMembers(t *testing.T) {
	nodes, join := startCluster(t, 3)
	waitForUp(t, nodes, []string{"n1", "n2", "n3"})

	v := members(t, nodes[1])
	for _, m := range v.Members {
		if m.Name == "n1" && !slices.Equal(m.Roles, []string{RoleCompute, RoleEnvironment}) {
			t.Fatalf("n1's roles in n2's view: %v", m.Roles)
		}
		if m.Self != (m.Name == "n2") || m.UpSince == nil || m.Address == "" {
			t.Fatalf("n2's view of %s: %+v", m.Name, m)
		}
	}

	env := nodes[0]
	probe := testkit.NewProbe(t, env.sys)
	env.sys.Root.Send(env.member.Membership(), Subscribe{PID: probe.PID()})

	cid := timely.ClusterId{Kind: timely.User, Value: 1}
	launcher, err := env.member.Launcher(cid, wait)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ping := func(pid *actor.PID) string {
		t.Helper()
		res, err := env.sys.Root.RequestFuture(pid, wrapperspb.String("ping"), wait).Result()
		if err != nil {
			t.Fatalf("ping %v: %v", pid, err)
		}
		return res.(*wrapperspb.StringValue).GetValue()
	}
	addressOf := map[string]string{}
	for _, n := range nodes {
		addressOf[n.member.Address()] = n.name
	}
	hostOf := map[timely.ReplicaId]string{}
	for r := uint64(1); r <= 3; r++ {
		rid := timely.ReplicaId{Kind: timely.User, Value: r}
		pid, err := launcher.Launch(ctx, rid, 1)
		if err != nil {
			t.Fatalf("launch replica %v: %v", rid, err)
		}
		// The runtime answers from the member it was placed on.
		hostOf[rid] = addressOf[ping(pid)]
	}
	hosts := []string{hostOf[timely.ReplicaId{Kind: timely.User, Value: 1}], hostOf[timely.ReplicaId{Kind: timely.User, Value: 2}], hostOf[timely.ReplicaId{Kind: timely.User, Value: 3}]}
	if got := slices.Sorted(slices.Values(hosts)); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
		t.Fatalf("three replicas of one cluster not on three members: %v", hosts)
	}
	// The view shows which member runs which replica.
	for _, m := range members(t, env).Members {
		if len(m.Replicas) != 1 {
			t.Fatalf("%s hosts %v, want one replica", m.Name, m.Replicas)
		}
	}

	// n3 leaves; the others see it go, and the replica it ran failed.
	var lost timely.ReplicaId
	for rid, host := range hostOf {
		if host == "n3" {
			lost = rid
		}
	}
	if err := nodes[2].member.Stop(); err != nil {
		t.Fatalf("stop n3: %v", err)
	}
	waitForUp(t, nodes[:2], []string{"n1", "n2"})
	left := testkit.ExpectMsg[MemberLeft](probe, wait)
	if left.Member != nodes[2].member.ID() || len(left.Failed) != 1 || left.Failed[0].Replica.Replica != lost {
		t.Fatalf("member left notice %+v; want n3 (%s) with replica %v", left, nodes[2].member.ID(), lost)
	}

	// Its next incarnation is placed on a member still up, under a new
	// name.
	pid, err := launcher.Launch(ctx, lost, 2)
	if err != nil {
		t.Fatalf("relaunch %v: %v", lost, err)
	}
	if host := addressOf[ping(pid)]; host == "n3" || host == "" {
		t.Fatalf("replica %v relaunched on %q", lost, host)
	}

	// n3 restarts: a new actor system, so a new member id, on the same
	// membership address. Everyone sees it up again; its old id stays
	// departed (protoactor will never list it again).
	oldID := nodes[2].member.ID()
	ln, err := net.Listen("tcp", join[2])
	if err != nil {
		t.Fatalf("listen again on n3's membership address: %v", err)
	}
	n3, err := startNode(t, "n3", []string{RoleCompute}, join, ln)
	if err != nil {
		t.Fatalf("restart n3: %v", err)
	}
	if n3.member.ID() == oldID {
		t.Fatalf("restarted n3 kept its member id %s", oldID)
	}
	nodes = []*testNode{nodes[0], nodes[1], n3}
	waitForUp(t, nodes, []string{"n1", "n2", "n3"})
	for _, m := range members(t, env).Members {
		if m.ID == oldID && m.State == StateUp.String() {
			t.Fatalf("n3's old id %s is up again: %+v", oldID, m)
		}
	}
}
