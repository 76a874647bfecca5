//go:build !race

// These tests run the test's own protoactor remote (Cluster.Client) beside
// the node processes; protoactor's Remote.Shutdown closes an endpoint
// reader's channel while its gRPC handler may still read it, a race inside
// the library that -race reports. The Makefile runs such packages a second
// time without -race.

package multinode_test

import (
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/testkit/multinode"
)

// TestThreeNodesCrashRestartAndPartition is the example of the package doc:
// three node processes; one is SIGKILLed and restarted on its data dir;
// traffic to another is blackholed and healed. Readiness comes from each
// node's /readyz, message flow from pings through each node's proxy.
func TestThreeNodesCrashRestartAndPartition(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 3})
	n1, n2, n3 := c.Node(0), c.Node(1), c.Node(2)
	for _, n := range c.Nodes() {
		if err := c.Ping(n, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	// A crash: no orderly stop, then a new incarnation on the same data dir.
	n2.Kill()
	if ok, _ := n2.Ready(); ok {
		t.Fatal("a killed node is ready")
	}
	if err := c.Ping(n2, time.Second); err == nil {
		t.Fatal("a killed node answered")
	}
	n2.Restart()
	if n2.Incarnation() != 2 {
		t.Fatalf("incarnation %d after a restart", n2.Incarnation())
	}
	if err := c.WaitPing(n2, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	// A partition: n3 runs and is ready, but nothing reaches it.
	n3.Proxy().Blackhole()
	before := n3.Proxy().Forwarded()
	if err := c.Ping(n3, 500*time.Millisecond); err == nil {
		t.Fatal("a blackholed node answered")
	}
	if ok, why := n3.Ready(); !ok {
		t.Fatalf("a blackholed node is not ready: %s", why)
	}
	if got := n3.Proxy().Forwarded(); got != before {
		t.Fatalf("%d bytes passed the blackhole", got-before)
	}
	if err := c.Ping(n1, 5*time.Second); err != nil { // the others are unaffected
		t.Fatal(err)
	}
	n3.Proxy().Heal()
	if err := c.WaitPing(n3, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n3.Proxy().Forwarded() == before {
		t.Fatal("nothing passed the proxy after heal")
	}
}

func TestGracefulStopAndAnAddedNode(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 1})
	n1 := c.Node(0)
	if code := n1.Stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, n1.Log())
	}
	if !strings.Contains(n1.Log(), "node stopped") {
		t.Fatalf("no orderly stop in the log:\n%s", n1.Log())
	}
	n2 := c.AddNode()
	if n2.Name() != "n2" || n2.DataDir() == n1.DataDir() || n2.Addr() == n1.Addr() {
		t.Fatalf("added node %s at %s, data %s", n2.Name(), n2.Addr(), n2.DataDir())
	}
	if err := c.Ping(n2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	n1.Restart()
	if err := c.WaitPing(n1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestClusterWithMutualTLS(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 2, MTLS: true})
	for _, n := range c.Nodes() {
		if err := c.Ping(n, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		// TLS passes the proxy end to end; the node saw no bad handshake.
		if strings.Contains(n.Metrics(), `arbor_remote_tls_handshake_failures_total{side="server"}`) {
			t.Fatalf("%s counted handshake failures", n.Name())
		}
	}
	n1 := c.Node(0)
	n1.Proxy().Delay(100 * time.Millisecond)
	if err := c.Ping(n1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	n1.Proxy().Heal()

	// Severed connections are dialed again, through TLS again.
	n1.Proxy().Sever()
	if err := c.WaitPing(n1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n1.Proxy().Accepted() < 2 {
		t.Fatalf("%d connections accepted after a sever", n1.Proxy().Accepted())
	}
}

func TestAStartThatFailsReportsTheExit(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 0, Args: []string{"--log-level", "info"}})
	n := c.AddNodeProcess("--log-level", "shouty") // the later flag wins
	err := n.WaitReady(10 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("a node with a bad flag: %v", err)
	}
	if n.ExitCode() != 2 || !strings.Contains(n.Log(), "log-level") {
		t.Fatalf("exit %d, log:\n%s", n.ExitCode(), n.Log())
	}
}

// TestLinkPartitionsTwoPartiesOnly cuts the traffic between the test and
// one node, both ways, while another node still answers; then only the
// answers of that node to the test, which proves the proxies tell the node
// processes apart.
func TestLinkPartitionsTwoPartiesOnly(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 2})
	n1, n2 := c.Node(0), c.Node(1)
	for _, n := range c.Nodes() {
		if err := c.Ping(n, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	link := c.Link(c.Test(), n1)
	link.Blackhole()
	if err := c.Ping(n1, 500*time.Millisecond); err == nil {
		t.Fatal("n1 answered across a blackholed link")
	}
	if err := c.Ping(n2, 5*time.Second); err != nil {
		t.Fatalf("n2, not on the link: %v", err)
	}
	link.Heal()
	if err := c.WaitPing(n1, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	// One direction: n1's answers to the test are held at the test's proxy.
	c.Test().Proxy().BlackholeFrom(n1.Name())
	if err := c.Ping(n1, 500*time.Millisecond); err == nil {
		t.Fatal("n1's answer passed a blackhole for its source")
	}
	if err := c.Ping(n2, 5*time.Second); err != nil {
		t.Fatalf("n2's answer: %v", err)
	}
	c.Test().Proxy().HealFrom(n1.Name())
	if err := c.WaitPing(n1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
