//go:build cluster && !race

package processtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit/multinode"
)

// TestClusterWithMutualTLS: in cluster mode the membership starts the
// node's remote with the node's certificates, so the default replica is
// placed on the compute node, set up and fed over mutual TLS, and
// hydrates. The test talks to the environment with the cluster's client
// certificate through the test's own actor system (the client library
// takes no certificates yet).
func TestClusterWithMutualTLS(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 2, Join: true, MTLS: true,
		NodeArgs: [][]string{{"--roles", "environment"}, {"--roles", "compute"}}})
	sys := c.Client()
	owner := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	t.Cleanup(func() { _ = sys.Root.StopFuture(owner).Wait() })
	env := c.Node(0).PID(environment.Path)
	res, err := sys.Root.RequestFuture(env, &messages.ClientConnect{ClientAddress: owner.Address, ClientId: owner.Id}, 10*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	conn := res.(*messages.ClientConnectResponse).GetConn()
	if conn == nil {
		t.Fatalf("connect: %v", res)
	}
	deadline := time.Now().Add(replaceTimeout)
	var last string
	for time.Now().Before(deadline) {
		res, err := sys.Root.RequestFuture(env, &messages.ClusterGetNodes{Conn: conn}, 5*time.Second).Result()
		if r, ok := res.(*messages.ClusterGetNodesResponse); ok && err == nil && r.GetError() == nil {
			var v client.NodesView
			if json.Unmarshal(r.GetJson(), &v) == nil && len(v.Replicas) == 1 && v.Replicas[0].Hydrated && v.Replicas[0].Node == "n2" {
				t.Logf("over mTLS: %+v", v.Replicas[0])
				return
			}
			last = string(r.GetJson())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the default replica not hydrated on n2 over mTLS within %s; last view:\n%s", replaceTimeout, last)
}
