//go:build !race

package etcdprovider_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arbor-db/arbor/cluster"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/testkit"
)

const wait = 15 * time.Second

type pingRuntime struct{}

func (pingRuntime) Receive(actor.Context) {}

type testNode struct {
	name   string
	sys    *actor.ActorSystem
	member *cluster.Member
}

func members(t *testing.T, n *testNode) cluster.Nodes {
	t.Helper()
	res, err := n.sys.Root.RequestFuture(n.member.Membership(), cluster.GetMembers{}, wait).Result()
	if err != nil {
		t.Fatalf("%s: get members: %v", n.name, err)
	}
	return res.(cluster.Nodes)
}

func waitForUp(t *testing.T, nodes []*testNode, want []string) {
	t.Helper()
	for _, n := range nodes {
		testkit.Eventually(t, func() bool {
			var up []string
			for _, m := range members(t, n).Members {
				if m.State == cluster.StateUp.String() {
					up = append(up, m.Name)
				}
			}
			return slices.Equal(up, want)
		}, wait, "%s never saw exactly %v up; its view: %+v", n.name, want, members(t, n))
	}
}

// TestEtcdMembership joins two members through the etcd provider on an
// embedded etcd, then deletes one member's key, as an expired lease does:
// the other member sees it leave, and the member itself sees its own id
// leave and reports itself evicted (protoactor-go #1133: it would never be
// listed again).
func TestEtcdMembership(t *testing.T) {
	endpoints := etcdtest.Start(t, etcdtest.NoFsync())
	var hosts []string
	for _, e := range endpoints {
		hosts = append(hosts, strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://"))
	}
	provider := "etcd://" + strings.Join(hosts, ",") + "/test/members"
	logger := testkit.QuietLogger()

	nodes := make([]*testNode, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, name := range []string{"n1", "n2"} {
		node := &testNode{name: name, sys: actor.NewActorSystem(
			actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }),
			actor.WithDeadLetterThrottleInterval(10*time.Millisecond))}
		nodes[i] = node
		t.Cleanup(node.sys.Shutdown)
		rcfg := remote.Configure("127.0.0.1", 0)
		rcfg.MaxRetryCount = 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			node.member, errs[i] = cluster.Start(node.sys, cluster.Config{
				Remote: rcfg, NodeName: node.name, Roles: []string{cluster.RoleCompute},
				Provider: provider, GossipInterval: 50 * time.Millisecond,
				RuntimeProps: func() (*actor.Props, error) {
					return actor.PropsFromProducer(func() actor.Actor { return pingRuntime{} }), nil
				},
				Logger: logger,
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start %s: %v", nodes[i].name, err)
		}
		m := nodes[i].member
		t.Cleanup(func() { _ = m.Stop() })
	}
	waitForUp(t, nodes, []string{"n1", "n2"})

	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: wait})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	key := "/test/members/arbor/" + nodes[1].member.ID()
	if resp, err := cli.Delete(ctx, key); err != nil || resp.Deleted != 1 {
		t.Fatalf("delete %s: %v (deleted %v)", key, err, resp)
	}

	waitForUp(t, nodes[:1], []string{"n1"})
	select {
	case <-nodes[1].member.Evicted():
	case <-time.After(wait):
		t.Fatalf("n2 never saw itself evicted; its view: %+v", members(t, nodes[1]))
	}
	if v := members(t, nodes[1]); !v.Evicted {
		t.Fatalf("n2's view does not say evicted: %+v", v)
	}
}
