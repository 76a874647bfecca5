//go:build cluster && !race

package processtest

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/testkit/multinode"
)

// TestEtcdMembershipKilledNode is TestKilledNodeReplicaReplaced with
// membership through etcd (--cluster-provider) instead of a --join list:
// the nodes find each other through an embedded etcd, a killed node's
// replica is placed again and hydrates, and the killed member leaves the
// view once its lease expires; a live member whose key is deleted (an
// expired lease) halts with exit 3 and its replica moves.
func TestEtcdMembershipKilledNode(t *testing.T) {
	etcd, endpoint := startEtcd(t)
	c := multinode.Start(t, multinode.Config{Nodes: 3,
		Args:     []string{"--cluster-provider", "etcd://" + endpoint + "/processtest/members", "--member-timeout", "10s"},
		NodeArgs: [][]string{{"--node-name", "n1"}, {"--node-name", "n2", "--roles", "compute"}, {"--node-name", "n3", "--roles", "compute"}},
	})
	// Registered after the cluster's cleanup, so it runs first: etcd's
	// goroutines end before the cluster checks for leaks.
	t.Cleanup(etcd.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl := dial(t, ctx, c.Node(0))
	waitView(t, ctx, cl, convergeTimeout, "three members up", func(v client.NodesView) bool { return upMembers(v) == 3 })

	o := newOracle()
	setupItems(t, ctx, cl, o, 30)
	v := waitView(t, ctx, cl, replaceTimeout, "c's replicas placed and hydrated", allHydrated("c", "r1", "r2"))
	rs := replicasOf(v, "c")
	if rs["r1"].Node == rs["r2"].Node {
		t.Fatalf("the replicas of c share node %s", rs["r1"].Node)
	}
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)
	victim, lost, _ := victimOf(t, c, rs)

	peeks := peekDuring(t, ctx, cl, "items_v", o.want())
	start := time.Now()
	lost.Kill()
	v = waitView(t, ctx, cl, replaceTimeout, victim+" placed again and hydrated", replacedOn("c", victim, rs[victim].Incarnation, lost.Name()))
	t.Logf("%s re-placed on %s and hydrated %s after SIGKILL of %s; peeks meanwhile: %s",
		victim, replicasOf(v, "c")[victim].Node, time.Since(start).Round(time.Millisecond), lost.Name(), peeks())
	waitView(t, ctx, cl, convergeTimeout, lost.Name()+" gone from the view (its lease expired)", func(v client.NodesView) bool {
		for _, m := range v.Members {
			if m.Name == lost.Name() && m.State == "up" {
				return false
			}
		}
		return true
	})
	insert(t, ctx, cl, o, 30, 40)
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)

	// A live member evicted (its key deleted, as an expired lease does)
	// halts: protoactor would never list it again, so it exits 3 saying
	// to restart it; its replica is placed on the node left.
	var evicted *multinode.Node
	var id string
	for _, m := range v.Members {
		if m.State == "up" && m.Name != "n1" && m.Name != lost.Name() {
			evicted, id = nodeByName(c, m.Name), m.ID
		}
	}
	if evicted == nil {
		t.Fatalf("no live compute-only member in %+v", v.Members)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if resp, err := cli.Delete(ctx, "/processtest/members/arbor/"+id); err != nil || resp.Deleted != 1 {
		t.Fatalf("delete %s's key: %v (%+v)", evicted.Name(), err, resp)
	}
	deadline := time.Now().Add(20 * time.Second)
	for evicted.Running() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if code := evicted.ExitCode(); code != 3 || !strings.Contains(evicted.Log(), "was dropped by the cluster") {
		t.Fatalf("%s after its eviction: running %v, exit %d; want exit 3 naming the eviction", evicted.Name(), evicted.Running(), code)
	}
	waitView(t, ctx, cl, replaceTimeout, "c's replicas all on n1", func(v client.NodesView) bool {
		rs := replicasOf(v, "c")
		return allHydrated("c", "r1", "r2")(v) && rs["r1"].Node == "n1" && rs["r2"].Node == "n1"
	})
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)
}

// startEtcd starts an embedded single-member etcd on free loopback ports
// and returns it with its client endpoint (host:port). The caller closes
// it (after the node processes' cluster is started, so that it is closed
// before that cluster checks for leaked goroutines).
func startEtcd(t *testing.T) (*embed.Etcd, string) {
	t.Helper()
	free := func() url.URL {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return url.URL{Scheme: "http", Host: l.Addr().String()}
	}
	clientURL, peerURL := free(), free()
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = "processtest", t.TempDir()
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.UnsafeNoFsync = true
	cfg.Logger, cfg.LogLevel = "zap", "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		t.Fatal(err)
	case <-time.After(20 * time.Second):
		e.Close()
		t.Fatal("etcd not ready after 20s")
	}
	return e, clientURL.Host
}
