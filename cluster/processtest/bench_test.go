//go:build !race

package processtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/testkit/multinode"
)

// BenchmarkPeekReplicaPlacement: the latency of an indexed peek, from a
// client to the environment node, with the cluster's replica on another
// node (n1 runs the environment only, n2 the replica) beside the same
// replica in the environment's process (a node alone), measured in the
// same run.
func BenchmarkPeekReplicaPlacement(pb *testing.B) {
	// The clusters live as long as the parent benchmark: a sub-benchmark's
	// function runs once per b.N tried.
	for _, placement := range []string{"in-process", "other-node"} {
		var once sync.Once
		var cl *client.Client
		ctx := context.Background()
		pb.Run("replica="+placement, func(b *testing.B) {
			once.Do(func() {
				var c *multinode.Cluster
				if placement == "in-process" {
					c = multinode.Start(pb, multinode.Config{Nodes: 1})
				} else {
					c = multinode.Start(pb, multinode.Config{Nodes: 2, Join: true,
						NodeArgs: [][]string{{"--roles", "environment"}, {"--roles", "compute"}}})
				}
				cl = dial(pb, ctx, c.Node(0))
				o := newOracle()
				setupItems(pb, ctx, cl, o, 100)
				waitView(pb, ctx, cl, replaceTimeout, "c hydrated", allHydrated("c", "r1", "r2"))
				waitPeek(pb, ctx, cl, "items_v", o, 30*time.Second)
			})
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := peekRows(ctx, cl, "items_v"); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkNodeLossRecovery: the time from SIGKILL of the node running a
// cluster's replica to that replica hydrated again on another node, for
// 10 and 100 dataflows (indexes), beside the time a fresh replica of the
// same cluster takes to build and hydrate them, measured on the same
// cluster in the same run. n1 runs the environment only; n2 and n3
// compute. One iteration is one whole scenario (tens of seconds); run it
// with -benchtime 1x.
func BenchmarkNodeLossRecovery(b *testing.B) {
	for _, flows := range []int{10, 100} {
		b.Run(fmt.Sprintf("dataflows=%d", flows), func(b *testing.B) {
			var fresh, recover time.Duration
			for range b.N {
				f, r := nodeLossScenario(b, flows)
				fresh += f
				recover += r
			}
			b.ReportMetric(float64(fresh.Milliseconds())/float64(b.N), "fresh-build-ms")
			b.ReportMetric(float64(recover.Milliseconds())/float64(b.N), "recover-ms")
		})
	}
}

// nodeLossScenario builds the cluster, then measures a fresh replica's
// build (r2 added) and the recovery of r1 after its node is killed.
func nodeLossScenario(b *testing.B, flows int) (fresh, recovered time.Duration) {
	b.StopTimer()
	defer b.StartTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := multinode.Start(b, multinode.Config{Nodes: 3, Join: true, Args: []string{"--member-timeout", "10s"},
		NodeArgs: [][]string{{"--roles", "environment"}, {"--roles", "compute"}, {"--roles", "compute"}}})
	cl := dial(b, ctx, c.Node(0))
	waitView(b, ctx, cl, convergeTimeout, "three members up", func(v client.NodesView) bool { return upMembers(v) == 3 })
	if _, err := cl.CreateTable(ctx, client.TableSpec{Name: "items", Columns: itemColumns, Key: []string{"id"}}); err != nil {
		b.Fatal(err)
	}
	o := newOracle()
	insert(b, ctx, cl, o, 0, 1000)
	if _, err := cl.CreateCluster(ctx, "c", "r1"); err != nil {
		b.Fatal(err)
	}
	if _, err := cl.CreateView(ctx, "items_v", client.Get("items")); err != nil {
		b.Fatal(err)
	}
	for i := range flows {
		if _, err := cl.CreateIndex(ctx, fmt.Sprintf("items_idx_%d", i), "items_v", []string{"id"}, "c"); err != nil {
			b.Fatal(err)
		}
	}
	v := waitView(b, ctx, cl, 2*replaceTimeout, "r1 hydrated", allHydrated("c", "r1"))
	r1 := replicasOf(v, "c")["r1"]

	start := time.Now()
	if _, err := cl.CreateReplica(ctx, "c", "r2", ""); err != nil {
		b.Fatal(err)
	}
	waitView(b, ctx, cl, 2*replaceTimeout, "r2 hydrated", allHydrated("c", "r2"))
	fresh = time.Since(start)

	lost := nodeByName(c, r1.Node)
	start = time.Now()
	lost.Kill()
	waitView(b, ctx, cl, 2*replaceTimeout, "r1 re-placed and hydrated", replacedOn("c", "r1", r1.Incarnation, lost.Name()))
	recovered = time.Since(start)
	b.Logf("%d dataflows: fresh build %s, recovery after SIGKILL %s", flows, fresh.Round(time.Millisecond), recovered.Round(time.Millisecond))
	return fresh, recovered
}
