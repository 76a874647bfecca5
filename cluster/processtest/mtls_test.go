//go:build cluster && !race

package processtest

import (
	"context"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/testkit/multinode"
)

// TestClusterWithMutualTLS: in cluster mode the membership starts the
// node's remote with the node's certificates, so the default replica is
// placed on the compute node, set up and fed over mutual TLS, and
// hydrates. The test reads the placement through the client library with
// the cluster's client certificate (client.WithTLS).
func TestClusterWithMutualTLS(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 2, Join: true, MTLS: true,
		NodeArgs: [][]string{{"--roles", "environment"}, {"--roles", "compute"}}})
	ctx, cancel := context.WithTimeout(context.Background(), replaceTimeout+30*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, c.Node(0).Addr(), client.WithTLS(c.Files("client")))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(replaceTimeout)
	var last string
	for time.Now().Before(deadline) {
		v, raw, err := cl.Nodes(ctx)
		if err == nil && len(v.Replicas) == 1 && v.Replicas[0].Hydrated && v.Replicas[0].Node == "n2" {
			t.Logf("over mTLS: %+v", v.Replicas[0])
			return
		}
		last = string(raw)
		if err != nil {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the default replica not hydrated on n2 over mTLS within %s; last view:\n%s", replaceTimeout, last)
}
