//go:build !race

package node

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/cluster"
	"github.com/arbor-db/arbor/testkit"
)

// TestClusterModeAlone is the cluster wiring in one process: a node that
// joins a static cluster of itself places its replicas through the
// placement launcher, on itself, as runtime hosts set up with its storage;
// a view indexed on the default cluster answers peeks; get nodes shows the
// replica on the node; Stop leaves the cluster and ends the hosts. (Two
// protoactor remotes in one process, the node's and the client's: built
// without -race, see the Makefile.)
func TestClusterModeAlone(t *testing.T) {
	cfg := testConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	membership := ln.Addr().String()
	ln.Close()
	cfg.Join, cfg.MembershipListen, cfg.NodeName = membership, membership, "solo"
	before := goleak.IgnoreCurrent()
	n, err := Start(cfg, testkit.QuietLogger(), clock.Real())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			n.Stop()
		}
	})
	if n.Member() == nil {
		t.Fatal("a node with --join has no cluster member")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	nodes, err := n.Nodes(5 * time.Second)
	if err != nil || len(nodes.Members) != 1 || nodes.Members[0].Name != "solo" || nodes.Members[0].State != "up" ||
		!slices.Equal(nodes.Members[0].Roles, []string{cluster.RoleCompute, cluster.RoleEnvironment}) {
		t.Fatalf("membership view: %+v (%v)", nodes, err)
	}

	c, err := client.Dial(ctx, n.RemoteAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cols, _ := client.ParseColumns("id int64 not null, amount int64")
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "items", Columns: cols, Key: []string{"id"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateView(ctx, "items_v", client.Get("items")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateIndex(ctx, "items_idx", "items_v", []string{"id"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Insert(ctx, "items", client.Row{1, 10}, client.Row{2, 20}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, func() bool {
		res, err := c.Peek(ctx, "items_v", client.OrderBy("id", false))
		if err != nil {
			return false
		}
		var got []string
		for _, r := range res.Rows {
			got = append(got, strings.TrimSpace(fmt.Sprintln(r...)))
		}
		return slices.Equal(got, []string{"1 10", "2 20"})
	}, 30*time.Second, "the indexed view answers from the placed replica")

	var v client.NodesView
	testkit.Eventually(t, func() bool {
		v, _, err = c.Nodes(ctx)
		return err == nil && len(v.Replicas) == 1 && v.Replicas[0].Node == "solo" && v.Replicas[0].Hydrated
	}, 30*time.Second, "get nodes shows the replica hydrated on the node")
	if got := testutil.ToFloat64(n.metrics.runtimeHosts.WithLabelValues(v.Replicas[0].ClusterId)); got != 1 {
		t.Fatalf("runtime hosts of the default cluster: %v, want 1", got)
	}
	c.Close()
	n.Stop()
	stopped = true
	if hosts := n.cluster.hosts.list(); len(hosts) != 0 {
		t.Fatalf("runtime hosts left after Stop: %v", hosts)
	}
	awaitQuiet(t, before)
}

// TestComputeOnlyNode: a node with only the compute role runs no catalog,
// storage, query tracker or environment, is ready, shows itself as a
// compute member, and leaves no data but the replicas' outputs dir.
func TestComputeOnlyNode(t *testing.T) {
	cfg := testConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	membership := ln.Addr().String()
	ln.Close()
	cfg.Join, cfg.MembershipListen, cfg.Roles = membership, membership, "compute"
	before := goleak.IgnoreCurrent()
	n, err := Start(cfg, testkit.QuietLogger(), clock.Real())
	if err != nil {
		t.Fatal(err)
	}
	if n.Catalog() != nil || n.Storage() != nil || n.Environment() != nil || n.QueryTracker() != nil {
		t.Fatalf("a compute-only node runs catalog %v, storage %v, environment %v, query tracker %v",
			n.Catalog(), n.Storage(), n.Environment(), n.QueryTracker())
	}
	if ok, why := n.Ready(); !ok {
		t.Fatalf("not ready: %s", why)
	}
	nodes, err := n.Nodes(5 * time.Second)
	if err != nil || len(nodes.Members) != 1 || !slices.Equal(nodes.Members[0].Roles, []string{cluster.RoleCompute}) {
		t.Fatalf("view: %+v (%v)", nodes, err)
	}
	n.Stop()
	awaitQuiet(t, before)
}
