package multinode

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/mtls"
	"github.com/arbor-db/arbor/testkit"
)

// Config says what cluster Start brings up.
type Config struct {
	// Nodes is how many nodes start at once (more join with AddNode).
	Nodes int
	// MTLS starts every node with --cacert, --cert and --key from a CA made
	// for the test; the test's own actor system (Client) gets a client
	// certificate from it. Every node presents the same certificate.
	MTLS bool
	// Args are extra flags for every node (--log-level debug, --catalog ...).
	Args []string
	// ReadyTimeout bounds each node's wait for /readyz; 0 means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Join starts the Nodes as one cluster (docs/cluster.md): each gets
	// --node-name (its name), --membership-listen (a free loopback port,
	// Node.MembershipAddr) and --join (every node's membership address).
	// A node added later with AddNode is not in the others' --join list.
	Join bool
	// NodeArgs[i] are extra flags for the i-th node only, after Args
	// (--roles compute, say).
	NodeArgs [][]string
}

// Cluster is a set of node processes started for one test, each behind its
// own Proxy. Everything it starts is stopped at the end of the test: the
// processes are killed, the proxies closed, the test's actor system shut
// down, and the test fails if a goroutine started since Start still runs.
// When the test failed, each node's log is written to the test log.
type Cluster struct {
	t      testing.TB
	cfg    Config
	binary string
	dir    string
	certs  map[string]mtls.Files // "node", "client"; nil without MTLS

	join []string // membership addresses with Config.Join, by node index

	mu          sync.Mutex
	nodes       []*Node
	client      *actor.ActorSystem // lazily, by Client
	remote      *remote.Remote
	clientProxy *Proxy // in front of the client's remote, which advertises it
}

// TestParty is the name the test's own process goes by as a source of
// traffic (Cluster.Test, Proxy.BlackholeFrom).
const TestParty = "test"

// Start builds the node binary if this test process has not yet (see
// Binary), starts cfg.Nodes nodes as child processes on free loopback
// ports, each with its own data directory and proxy, and waits until every
// one is ready. Any failure fails the test.
func Start(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	c := &Cluster{t: t, cfg: cfg, binary: Binary(t), dir: t.TempDir()}
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { c.cleanup(before) })
	if cfg.MTLS {
		var err error
		c.certs, err = mtls.Generate(mtls.GenerateConfig{Dir: filepath.Join(c.dir, "certs"),
			Names: []string{"node", "client"}, Now: time.Now(), ValidFor: 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Join {
		for range cfg.Nodes {
			c.join = append(c.join, freeAddr(t))
		}
	}
	var added []*Node
	for range cfg.Nodes {
		n := c.newNode()
		if err := n.StartProcess(); err != nil {
			t.Fatal(err)
		}
		added = append(added, n)
	}
	for _, n := range added { // started together, waited for in turn
		if err := n.WaitReady(cfg.ReadyTimeout); err != nil {
			t.Fatalf("%v\n%s", err, n.tail())
		}
	}
	return c
}

// Nodes returns every node, in the order they were added.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Node(nil), c.nodes...)
}

// Node returns the i-th node (0-based; its name is n<i+1>).
func (c *Cluster) Node(i int) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// AddNode starts one more node and waits until it is ready. extra flags
// come after Config.Args (a later flag wins: --deploy-generation 2 for a
// node that fences the others, say).
func (c *Cluster) AddNode(extra ...string) *Node {
	c.t.Helper()
	n := c.newNode(extra...)
	n.Start()
	return n
}

// AddNodeProcess is AddNode without the wait for readiness: for a start
// that is meant to fail, or to wait with Node.WaitReady.
func (c *Cluster) AddNodeProcess(extra ...string) *Node {
	c.t.Helper()
	n := c.newNode(extra...)
	if err := n.StartProcess(); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// Files returns the mTLS material of "node" or "client" (zero without
// Config.MTLS).
func (c *Cluster) Files(name string) mtls.Files { return c.certs[name] }

// newNode allocates a node: a name, a data dir, two free ports and a proxy.
func (c *Cluster) newNode(extra ...string) *Node {
	c.t.Helper()
	c.mu.Lock()
	index := len(c.nodes)
	name := fmt.Sprintf("n%d", index+1)
	c.mu.Unlock()
	listen, httpAddr := freeAddr(c.t), freeAddr(c.t)
	proxy, err := NewProxy(listen, c.identify)
	if err != nil {
		c.t.Fatal(err)
	}
	n := &Node{
		t: c.t, name: name, binary: c.binary, dataDir: filepath.Join(c.dir, name),
		listen: listen, http: httpAddr, proxy: proxy, readyTimeout: c.cfg.ReadyTimeout, log: &syncBuffer{},
	}
	n.args = []string{"--data-dir", n.dataDir, "--listen", listen, "--http", httpAddr, "--advertise", proxy.Addr()}
	if f := c.certs["node"]; f.Enabled() {
		n.args = append(n.args, "--cacert", f.CACert, "--cert", f.Cert, "--key", f.Key)
	}
	if index < len(c.join) {
		n.membership = c.join[index]
		n.args = append(n.args, "--node-name", name, "--membership-listen", n.membership, "--join", strings.Join(c.join, ","))
	}
	n.args = append(n.args, c.cfg.Args...)
	if index < len(c.cfg.NodeArgs) {
		n.args = append(n.args, c.cfg.NodeArgs[index]...)
	}
	n.args = append(n.args, extra...)
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	return n
}

// Client is the test's own actor system, with remote on a free loopback
// port (and the cluster's client certificate with Config.MTLS), for
// talking to the nodes. It is started on first use and shut down at the end
// of the test.
//
// protoactor's remote retries a failed dial 2 s apart inside the endpoint
// writer and its shutdown waits for that; the client tries once
// (MaxRetryCount 1), so a dial to a killed node fails fast.
func (c *Cluster) Client() *actor.ActorSystem {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client
	}
	logger := testkit.QuietLogger()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond))
	var creds *mtls.Credentials
	if f := c.certs["client"]; f.Enabled() {
		var err error
		if creds, err = mtls.NewCredentials(mtls.CredentialsConfig{Files: f, Logger: logger}); err != nil {
			sys.Shutdown()
			c.t.Fatal(err)
		}
	}
	listen := freeAddr(c.t)
	proxy, err := NewProxy(listen, c.identify)
	if err != nil {
		sys.Shutdown()
		c.t.Fatal(err)
	}
	_, portStr, _ := net.SplitHostPort(listen)
	port, _ := strconv.Atoi(portStr)
	cfg := remote.Configure("127.0.0.1", port, append(creds.RemoteOptions(), remote.WithAdvertisedHost(proxy.Addr()))...)
	cfg.MaxRetryCount = 1
	c.remote = remote.NewRemote(sys, cfg)
	c.remote.Start()
	c.client, c.clientProxy = sys, proxy
	return sys
}

// Party is a process of the cluster as a source and destination of
// traffic: a *Node, or the test's own process (Cluster.Test).
type Party interface {
	// Name is the party's name as a traffic source ("n1", TestParty).
	Name() string
	// Proxy is the proxy in front of the party's remote port.
	Proxy() *Proxy
}

// Test is the test's own process as a Party: its Client system advertises
// a proxy too, so the answers nodes send the test pass a proxy as well.
func (c *Cluster) Test() Party {
	c.t.Helper()
	c.Client()
	return testParty{c}
}

type testParty struct{ c *Cluster }

func (testParty) Name() string { return TestParty }

func (p testParty) Proxy() *Proxy {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.c.clientProxy
}

// Link is the traffic between two parties, both directions: what a sends
// b passes b's proxy, what b sends a passes a's. Unlike a Proxy's own
// Blackhole, a Link's leaves every other party's traffic alone, so a test
// can partition two nodes that both still reach a third.
//
// The proxies tell sources apart by the process that holds the dialing
// socket (Linux /proc); where that is unavailable nothing is identified and
// a Link's rules do not apply.
type Link struct{ a, b Party }

// Link returns the link between a and b.
func (c *Cluster) Link(a, b Party) Link { return Link{a, b} }

// Blackhole stops the traffic between the two parties until Heal.
func (l Link) Blackhole() {
	l.b.Proxy().BlackholeFrom(l.a.Name())
	l.a.Proxy().BlackholeFrom(l.b.Name())
}

// Delay holds the traffic between the two parties for d, each way.
func (l Link) Delay(d time.Duration) {
	l.b.Proxy().DelayFrom(l.a.Name(), d)
	l.a.Proxy().DelayFrom(l.b.Name(), d)
}

// Heal ends Blackhole and Delay on this link.
func (l Link) Heal() {
	l.b.Proxy().HealFrom(l.a.Name())
	l.a.Proxy().HealFrom(l.b.Name())
}

// identify names the party that dialed an accepted proxy connection: the
// node whose running process (or the test process) holds the other end.
func (c *Cluster) identify(accepted net.Conn) string {
	peer, ok1 := accepted.RemoteAddr().(*net.TCPAddr)
	local, ok2 := accepted.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return ""
	}
	names := map[int]string{os.Getpid(): TestParty}
	pids := []int{os.Getpid()}
	for _, n := range c.Nodes() {
		if p := n.current(); p != nil && !p.hasExited() {
			names[p.cmd.Process.Pid] = n.name
			pids = append(pids, p.cmd.Process.Pid)
		}
	}
	return names[socketOwner(peer.Port, local.Port, pids)]
}

// Ping sends a request the node's root guardian does not handle to its
// advertised address, through its proxy, and waits at most timeout for the
// answer (messages.UnknownMessageReply, which the node gives any remote
// request of a type its guardian does not accept). nil means a message
// reached the node and its answer came back.
func (c *Cluster) Ping(n *Node, timeout time.Duration) error {
	c.t.Helper()
	res, err := c.Client().Root.RequestFuture(n.PID("node"), &messages.Row{}, timeout).Result()
	if err != nil {
		return fmt.Errorf("multinode: ping %s at %s: %w", n.name, n.Addr(), err)
	}
	if _, ok := res.(*messages.UnknownMessageReply); !ok {
		return fmt.Errorf("multinode: ping %s: unexpected answer %T", n.name, res)
	}
	return nil
}

// WaitPing pings n until an answer comes back, each ping bounded by a
// second, for at most timeout; it returns the last failure when none did.
// After a restart or a heal the first pings may still meet the connection
// protoactor gave up on; this waits for messages to flow again.
func (c *Cluster) WaitPing(n *Node, timeout time.Duration) error {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := c.Ping(n, time.Second)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cleanup kills every node, closes every proxy, shuts the client system
// down and checks for leaked goroutines.
func (c *Cluster) cleanup(before goleak.Option) {
	nodes := c.Nodes()
	for _, n := range nodes {
		n.kill()
	}
	for _, n := range nodes {
		n.proxy.Close()
	}
	c.mu.Lock()
	sys, r, proxy := c.client, c.remote, c.clientProxy
	c.mu.Unlock()
	if proxy != nil {
		proxy.Close()
	}
	if r != nil {
		surface.ShutdownRemote(r)
	}
	if sys != nil {
		sys.Shutdown()
	}
	if c.t.Failed() {
		for _, n := range nodes {
			c.t.Logf("multinode: log of %s:\n%s", n.name, n.tail())
		}
	}
	if err := goleak.Find(testkit.LeakOptions(before)...); err != nil {
		c.t.Errorf("multinode: goroutines leaked by this test: %v", err)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
