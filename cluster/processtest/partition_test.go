//go:build cluster && !race

package processtest

import (
	"context"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
)

// TestPartitionedNodeReplicaReplaced: the compute node of one replica is
// cut off from every other node (multinode links, both ways: its gossip
// stops arriving). After --member-timeout the others hold it gone, its
// replica is placed on a live node as a new incarnation and hydrates,
// while peeks keep answering. The partition starts one way (the cut
// node's traffic to the environment node is held first), so that the old
// incarnation reports progress the environment node receives only after
// the heal: it is dropped as stale (counted by arbor_compute_ignored_responses_total{reason=
// "stale_epoch"}); the replica stays on its new node and incarnation and
// the answers stay the oracle's.
func TestPartitionedNodeReplicaReplaced(t *testing.T) {
	c := startCluster(t, "3s")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := c.Node(0)
	cl := dial(t, ctx, env)
	waitView(t, ctx, cl, convergeTimeout, "three members up", func(v client.NodesView) bool { return upMembers(v) == 3 })

	o := newOracle()
	setupItems(t, ctx, cl, o, 40)
	v := waitView(t, ctx, cl, replaceTimeout, "c's replicas placed and hydrated", allHydrated("c", "r1", "r2"))
	rs := replicasOf(v, "c")
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)
	victim, cut, other := victimOf(t, c, rs)
	t.Logf("placement: r1 on %s, r2 on %s; partitioning %s", rs["r1"].Node, rs["r2"].Node, cut.Name())

	// The partition starts one way: what the cut node sends the
	// environment node is held, while it still receives. Writes then make
	// its runtime report progress that the environment node gets only
	// after the heal, when that runtime's incarnation is long replaced.
	env.Proxy().BlackholeFrom(cut.Name())
	insert(t, ctx, cl, o, 40, 50)
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second) // served by the other replica
	peeks := peekDuring(t, ctx, cl, "items_v", o.want())
	partitioned := time.Now()
	for _, n := range c.Nodes() {
		if n != cut {
			c.Link(n, cut).Blackhole()
		}
	}
	v = waitView(t, ctx, cl, replaceTimeout, victim+" placed again and hydrated", replacedOn("c", victim, rs[victim].Incarnation, cut.Name()))
	recovered := time.Since(partitioned)
	stats := peeks()
	moved := replicasOf(v, "c")[victim]
	t.Logf("%s re-placed on %s as incarnation %d and hydrated %s after %s was partitioned; peeks meanwhile: %s",
		victim, moved.Node, moved.Incarnation, recovered.Round(time.Millisecond), cut.Name(), stats)
	if ok, why := cut.Ready(); !ok {
		t.Logf("the partitioned node is not ready: %s", why)
	}

	// Writes while partitioned, so that the old incarnation, if it still
	// ran, would have news to report late.
	insert(t, ctx, cl, o, 50, 60)
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)
	stale := metricValue(env, "arbor_compute_ignored_responses_total", `reason="stale_epoch"`)

	for _, n := range c.Nodes() {
		if n != cut {
			c.Link(n, cut).Heal()
		}
	}
	// The held bytes arrive; give them time, then look.
	deadline := time.Now().Add(10 * time.Second)
	after := stale
	for time.Now().Before(deadline) && after == stale {
		time.Sleep(200 * time.Millisecond)
		after = metricValue(env, "arbor_compute_ignored_responses_total", `reason="stale_epoch"`)
	}
	t.Logf("stale responses dropped by %s: %.0f before the heal, %.0f after", env.Name(), stale, after)
	if after <= stale {
		t.Errorf("no stale response from the old incarnation reached %s and was dropped after the heal", env.Name())
	}
	peeks = peekDuring(t, ctx, cl, "items_v", o.want())
	time.Sleep(2 * time.Second)
	t.Logf("peeks after the heal: %s", peeks())
	v = waitView(t, ctx, cl, 10*time.Second, "the replicas as they were after the move", func(v client.NodesView) bool {
		now := replicasOf(v, "c")
		return now[victim].Incarnation == moved.Incarnation && now[victim].Node == moved.Node && now[other].Incarnation == rs[other].Incarnation
	})
	insert(t, ctx, cl, o, 60, 70)
	waitPeek(t, ctx, cl, "items_v", o, 30*time.Second)
	// The cut-off node's runtimes ended themselves: their controller's
	// node was lost to them.
	waitMetric(t, cut, 15*time.Second, "no runtime lingers on the healed node", func(v float64) bool { return v == 0 }, "arbor_node_runtime_hosts")
}
