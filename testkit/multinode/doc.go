// Package multinode runs Arbor nodes as child processes of a test, the way
// Akka's multi-node testkit and Orleans' TestCluster let their users test a
// cluster: start N nodes, wait until they are ready, crash one, restart it,
// add another, and cut or slow the traffic to a node.
//
//   - Start(t, Config{Nodes: 3}) builds the node binary once per test
//     process (go build of cmd/node into a temporary directory, or
//     $ARBOR_NODE_BINARY), starts the nodes on free loopback ports, each
//     with its own data directory, and waits for each /readyz (bounded by
//     Config.ReadyTimeout). Config.MTLS gives every node and the test
//     certificates from a CA made for the test.
//   - A Node is one process over its lifetime: Stop (SIGTERM, returns the
//     exit code), Kill (SIGKILL), Restart (a new incarnation on the same
//     data dir and ports), Ready, WaitReady, Metrics, Log. Cluster.AddNode
//     starts one more.
//   - Each node advertises the address of its own Proxy, a TCP proxy on
//     loopback in front of its remote port, so everything other processes
//     send to the node passes it: Blackhole holds every byte (a partition;
//     TCP loses nothing, so held bytes arrive after Heal), Delay(d) shifts
//     them, Heal ends both, Sever closes the open connections. HTTP
//     (/readyz) does not pass the proxy: a partitioned node is still
//     observable.
//   - Cluster.Link(a, b) is the traffic between two parties only (nodes, or
//     the test itself, Cluster.Test): Blackhole, Delay and Heal on it leave
//     every other party's traffic alone, so two nodes can be partitioned
//     while both still reach a third. A proxy tells its sources apart by the
//     process that holds the dialing socket (/proc on Linux); elsewhere
//     sources are unknown and only the proxy-wide rules apply.
//   - Config.Join starts the nodes as one cluster (cluster mode,
//     docs/cluster.md): each gets --node-name, its own --membership-listen
//     (Node.MembershipAddr) and --join with every node's; Config.NodeArgs
//     gives one node its own flags (--roles compute).
//   - Cluster.Client is the test's own actor system (remote on loopback
//     behind a proxy of its own, with the client certificate under MTLS);
//     Ping sends a node's root
//     guardian a request through the proxy and waits for its answer, and
//     WaitPing waits until one comes back.
//   - Barrier coordinates the goroutines of a test at named steps (Enter
//     returns when every party has entered the name, or fails at its
//     timeout).
//
// Every wait is bounded. At the end of the test the processes are killed,
// the proxies closed, the client system shut down, each node's log written
// to the test log if the test failed, and the test fails if a goroutine it
// started still runs. A package of multi-node tests uses RunTests as its
// TestMain, which also removes the binary.
//
// Only the test process runs protoactor here (one remote, the client), but
// protoactor's Remote.Shutdown races its own endpoint reader, which -race
// reports now and then; tests that use Cluster.Client carry
// `//go:build !race` (the Makefile runs them without -race).
//
// # Example
//
//	func TestMain(m *testing.M) { multinode.RunTests(m) }
//
//	func TestThreeNodesCrashRestartAndPartition(t *testing.T) {
//		c := multinode.Start(t, multinode.Config{Nodes: 3})
//		n2, n3 := c.Node(1), c.Node(2)
//
//		n2.Kill() // SIGKILL: no orderly stop
//		if err := c.Ping(n2, time.Second); err == nil {
//			t.Fatal("a killed node answered")
//		}
//		n2.Restart() // same data dir and ports; waits for /readyz
//		if err := c.WaitPing(n2, 10*time.Second); err != nil {
//			t.Fatal(err)
//		}
//
//		n3.Proxy().Blackhole()
//		if err := c.Ping(n3, 500*time.Millisecond); err == nil {
//			t.Fatal("a blackholed node answered")
//		}
//		if ok, why := n3.Ready(); !ok { // partitioned, not down
//			t.Fatalf("not ready: %s", why)
//		}
//		n3.Proxy().Heal()
//		if err := c.WaitPing(n3, 10*time.Second); err != nil {
//			t.Fatal(err)
//		}
//	}
//
// # Limits
//
// protoactor dials one advertised address per node, the same for every
// sender, so a Link's rules depend on telling senders apart by process
// (Linux only). The nodes run the binary's flags only. A node added with AddNode is
// not in the others' --join list. The membership endpoint (HTTP) does not
// pass the proxy: a partition cuts gossip and remote traffic, and the
// others notice it after --member-timeout.
package multinode
