package multinode_test

import (
	"bufio"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/testkit/multinode"
)

// echoServer answers every line with itself until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func newProxy(t *testing.T, target string) *multinode.Proxy {
	t.Helper()
	p, err := multinode.NewProxy(target, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

type client struct {
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{conn: c, r: bufio.NewReader(c)}
}

// roundTrip writes line and reads the echo within wait; "" when none came.
func (c *client) roundTrip(t *testing.T, line string, wait time.Duration) string {
	t.Helper()
	if _, err := c.conn.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	return c.read(wait)
}

func (c *client) read(wait time.Duration) string {
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	s, err := c.r.ReadString('\n')
	if err != nil {
		return ""
	}
	return s[:len(s)-1]
}

func TestProxyBlackholeHoldsTrafficUntilHeal(t *testing.T) {
	p := newProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	if got := c.roundTrip(t, "one", testkit.DefaultTimeout); got != "one" {
		t.Fatalf("through an open proxy: %q", got)
	}
	p.Blackhole()
	if !p.Blackholed() {
		t.Fatal("not blackholed")
	}
	before := p.Forwarded()
	if got := c.roundTrip(t, "two", 100*time.Millisecond); got != "" {
		t.Fatalf("through a blackhole: %q", got)
	}
	// A connection opened meanwhile is accepted and held too.
	late := dial(t, p.Addr())
	if got := late.roundTrip(t, "late", 100*time.Millisecond); got != "" {
		t.Fatalf("a new connection through a blackhole: %q", got)
	}
	if p.Forwarded() != before {
		t.Fatalf("%d bytes passed the blackhole", p.Forwarded()-before)
	}
	p.Heal()
	// Nothing was lost: the held bytes arrive, in order.
	if got := c.read(testkit.DefaultTimeout); got != "two" {
		t.Fatalf("after heal: %q", got)
	}
	if got := late.read(testkit.DefaultTimeout); got != "late" {
		t.Fatalf("the new connection after heal: %q", got)
	}
	if got := c.roundTrip(t, "three", testkit.DefaultTimeout); got != "three" {
		t.Fatalf("after heal: %q", got)
	}
	if p.Accepted() != 2 {
		t.Fatalf("accepted %d connections", p.Accepted())
	}
}

func TestProxyDelayShiftsTraffic(t *testing.T) {
	p := newProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	const d = 150 * time.Millisecond
	p.Delay(d)
	start := time.Now()
	if got := c.roundTrip(t, "slow", testkit.DefaultTimeout); got != "slow" {
		t.Fatalf("through a delay: %q", got)
	}
	// Held d on the way there and d on the way back; only the lower bound
	// is certain on a loaded machine.
	if took := time.Since(start); took < 2*d {
		t.Fatalf("round trip took %v, less than twice the delay %v", took, d)
	}
	p.Heal()
	if got := c.roundTrip(t, "fast", testkit.DefaultTimeout); got != "fast" {
		t.Fatalf("after heal: %q", got)
	}
}

func TestProxySeverClosesConnections(t *testing.T) {
	p := newProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	if got := c.roundTrip(t, "one", testkit.DefaultTimeout); got != "one" {
		t.Fatalf("%q", got)
	}
	p.Sever()
	_ = c.conn.SetReadDeadline(time.Now().Add(testkit.DefaultTimeout))
	if _, err := c.r.ReadString('\n'); err == nil {
		t.Fatal("a severed connection still reads")
	}
	// New connections work as before.
	if got := dial(t, p.Addr()).roundTrip(t, "again", testkit.DefaultTimeout); got != "again" {
		t.Fatalf("after sever: %q", got)
	}
}

func TestProxyToADownTargetClosesTheConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	p := newProxy(t, down)
	c := dial(t, p.Addr())
	_ = c.conn.SetReadDeadline(time.Now().Add(testkit.DefaultTimeout))
	if _, err := c.r.ReadString('\n'); err == nil || isTimeout(err) {
		t.Fatalf("reading through a proxy to a down target: %v", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestProxyRulesPerSource(t *testing.T) {
	var sources sync.Map // local port of a dialed connection → its source name
	p, err := multinode.NewProxy(echoServer(t), func(accepted net.Conn) string {
		name, _ := sources.Load(accepted.RemoteAddr().(*net.TCPAddr).Port)
		s, _ := name.(string)
		return s
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	dialAs := func(name string) *client {
		port := freePort(t)
		sources.Store(port, name)
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}}
		c, err := d.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return &client{conn: c, r: bufio.NewReader(c)}
	}
	a, b := dialAs("a"), dialAs("b")

	p.BlackholeFrom("a")
	if got := a.roundTrip(t, "held", 100*time.Millisecond); got != "" {
		t.Fatalf("a blackholed source got %q", got)
	}
	if got := b.roundTrip(t, "free", testkit.DefaultTimeout); got != "free" {
		t.Fatalf("another source: %q", got)
	}
	p.HealFrom("a")
	if got := a.read(testkit.DefaultTimeout); got != "held" {
		t.Fatalf("after HealFrom: %q", got)
	}

	const d = 150 * time.Millisecond
	p.DelayFrom("b", d)
	start := time.Now()
	if got := b.roundTrip(t, "slow", testkit.DefaultTimeout); got != "slow" {
		t.Fatalf("a delayed source: %q", got)
	}
	if took := time.Since(start); took < 2*d {
		t.Fatalf("round trip took %v, less than twice the delay %v", took, d)
	}
	p.Heal()
	if got := b.roundTrip(t, "fast", testkit.DefaultTimeout); got != "fast" {
		t.Fatalf("after Heal: %q", got)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
