//go:build cluster && !race

package processtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
)

// TestGracefulLeaveReplaces: a compute node hosting a replica is stopped
// with SIGTERM. It leaves the cluster before it stops its runtimes, exits
// 0, and its replica is placed on a live node and hydrates; the others
// see it left.
func TestGracefulLeaveReplaces(t *testing.T) {
	c := startCluster(t, "10s")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl := dial(t, ctx, c.Node(0))
	waitView(t, ctx, cl, convergeTimeout, "three members up", func(v client.NodesView) bool { return upMembers(v) == 3 })
	o := newOracle()
	setupItems(t, ctx, cl, o, 30)
	v := waitView(t, ctx, cl, replaceTimeout, "c's replicas placed and hydrated", allHydrated("c", "r1", "r2"))
	rs := replicasOf(v, "c")
	victim, leaving, _ := victimOf(t, c, rs)

	peeks := peekDuring(t, ctx, cl, "items_v", o.want())
	start := time.Now()
	if code := leaving.Stop(); code != 0 {
		t.Fatalf("%s exited %d on SIGTERM, want 0", leaving.Name(), code)
	}
	v = waitView(t, ctx, cl, replaceTimeout, victim+" placed again and hydrated", replacedOn("c", victim, rs[victim].Incarnation, leaving.Name()))
	t.Logf("%s re-placed on %s and hydrated %s after %s was told to stop; peeks meanwhile: %s",
		victim, replicasOf(v, "c")[victim].Node, time.Since(start).Round(time.Millisecond), leaving.Name(), peeks())
	// Re-placement can beat the membership view: the replica fails when
	// its runtime's endpoint closes, while the view learns of the leave at
	// the provider's next poll. The view must still catch up, within the
	// member timeout.
	waitView(t, ctx, cl, convergeTimeout, leaving.Name()+" shown departed", func(v client.NodesView) bool {
		for _, m := range v.Members {
			if m.Name == leaving.Name() && m.State == "up" {
				return false
			}
		}
		return true
	})
	insert(t, ctx, cl, o, 30, 40)
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)

	// Dropping the cluster ends its runtimes on every node: each watched
	// its controller, which stopped.
	clusterID := rs[victim].ClusterId
	hosting := nodeByName(c, replicasOf(v, "c")[victim].Node)
	waitMetric(t, hosting, 5*time.Second, "the runtime of c runs there", func(v float64) bool { return v >= 1 }, "arbor_node_runtime_hosts", `cluster="`+clusterID+`"`)
	if _, err := cl.Drop(ctx, client.Index, "items_idx", false); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Drop(ctx, client.Cluster, "c", false); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, cl, 10*time.Second, "no node shows a replica of the dropped cluster", func(v client.NodesView) bool {
		for _, m := range v.Members {
			for _, r := range m.Replicas {
				if strings.HasPrefix(r, clusterID+"/") {
					return false
				}
			}
		}
		return len(replicasOf(v, "c")) == 0
	})
	for _, n := range c.Nodes() {
		if n.Running() {
			waitMetric(t, n, 15*time.Second, "no runtime of the dropped cluster lingers", func(v float64) bool { return v == 0 }, "arbor_node_runtime_hosts", `cluster="`+clusterID+`"`)
		}
	}
}
