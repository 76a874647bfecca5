//go:build cluster && !race

package processtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
)

// TestKilledNodeReplicaReplaced: three node processes; a cluster's two
// replicas run on distinct nodes; the node of one (a compute-only node) is
// SIGKILLed. The replica is placed on a live node as a new incarnation and
// hydrates from storage; meanwhile every peek either answers the oracle's
// rows or fails with an error within its timeout; no acknowledged write is
// lost, before or after.
func TestKilledNodeReplicaReplaced(t *testing.T) {
	c := startCluster(t, "10s")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl := dial(t, ctx, c.Node(0))
	waitView(t, ctx, cl, convergeTimeout, "three members up", func(v client.NodesView) bool { return upMembers(v) == 3 })

	o := newOracle()
	setupItems(t, ctx, cl, o, 50)
	v := waitView(t, ctx, cl, replaceTimeout, "c's replicas placed and hydrated", allHydrated("c", "r1", "r2"))
	rs := replicasOf(v, "c")
	if rs["r1"].Node == rs["r2"].Node {
		t.Fatalf("the replicas of c share node %s; want distinct nodes:\n%+v", rs["r1"].Node, rs)
	}
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)

	// The victim: a replica of c on a compute-only node.
	victim, lost, other := victimOf(t, c, rs)
	survivor := rs[other]
	t.Logf("placement: r1 on %s (incarnation %d), r2 on %s (incarnation %d); killing %s",
		rs["r1"].Node, rs["r1"].Incarnation, rs["r2"].Node, rs["r2"].Incarnation, lost.Name())

	// Peeks all along: each answers the oracle's rows or fails clearly
	// within its timeout. No write happens meanwhile, so the oracle is
	// fixed.
	peeks := peekDuring(t, ctx, cl, "items_v", o.want())
	killed := time.Now()
	lost.Kill()
	v = waitView(t, ctx, cl, replaceTimeout, victim+" placed again and hydrated", replacedOn("c", victim, rs[victim].Incarnation, lost.Name()))
	recovered := time.Since(killed)
	stats := peeks()
	r := replicasOf(v, "c")[victim]
	t.Logf("%s re-placed on %s as incarnation %d and hydrated %s after SIGKILL of %s; peeks meanwhile: %s",
		victim, r.Node, r.Incarnation, recovered.Round(time.Millisecond), lost.Name(), stats)
	if s := replicasOf(v, "c")[other]; s.Incarnation != survivor.Incarnation {
		t.Errorf("the surviving replica was restarted too: incarnation %d, was %d", s.Incarnation, survivor.Incarnation)
	}
	// Every acknowledged write is there, and new ones arrive.
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)
	insert(t, ctx, cl, o, 50, 80)
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)

	// Dropping the surviving replica ends its runtime on its node and its
	// placement; the re-placed one serves alone.
	dropped := replicasOf(v, "c")[other]
	if _, err := cl.Drop(ctx, client.Replica, "c."+other, false); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, cl, 10*time.Second, "the dropped replica gone from the view", func(v client.NodesView) bool {
		for _, m := range v.Members {
			if slices.Contains(m.Replicas, dropped.ClusterId+"/"+dropped.ReplicaId) {
				return false
			}
		}
		_, still := replicasOf(v, "c")[other]
		return !still
	})
	deadline := time.Now().Add(15 * time.Second)
	var hosts float64
	for time.Now().Before(deadline) {
		hosts = 0
		for _, n := range c.Nodes() {
			if n.Running() {
				hosts += metricValue(n, "arbor_node_runtime_hosts", `cluster="`+dropped.ClusterId+`"`)
			}
		}
		if hosts == 1 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if hosts != 1 {
		t.Fatalf("runtimes of c on the live nodes: %v, want 1 after dropping %s", hosts, other)
	}
	insert(t, ctx, cl, o, 80, 90)
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)
}
