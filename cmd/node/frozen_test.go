package main

import (
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arbor-db/arbor/node"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/testkit"
)

// freezer is a loopback TCP proxy to a backend that a test can freeze: once
// frozen it relays nothing in either direction and answers nothing on new
// connections, but keeps every connection open, as a backend under SIGSTOP
// does.
type freezer struct {
	l      net.Listener
	target string
	frozen chan struct{} // closed by Freeze
	done   chan struct{} // closed by close
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
	once   sync.Once
}

func newFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{l: l, target: target, frozen: make(chan struct{}), done: make(chan struct{})}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *freezer) Addr() string { return f.l.Addr().String() }

// Freeze stops all traffic through the proxy.
func (f *freezer) Freeze() { f.once.Do(func() { close(f.frozen) }) }

func (f *freezer) accept() {
	defer f.wg.Done()
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		if !f.track(c) {
			return
		}
		select {
		case <-f.frozen:
			continue // held open, never answered
		default:
		}
		up, err := net.Dial("tcp", f.target)
		if err != nil {
			c.Close()
			continue
		}
		if !f.track(up) {
			return
		}
		f.wg.Add(2)
		go f.pipe(up, c)
		go f.pipe(c, up)
	}
}

// track registers c to be closed by close; false (c closed) once closing.
func (f *freezer) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.done:
		c.Close()
		return false
	default:
	}
	f.conns = append(f.conns, c)
	return true
}

func (f *freezer) pipe(dst, src net.Conn) {
	defer f.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case <-f.frozen:
				<-f.done // hold the bytes until the test ends
				return
			default:
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) close() {
	f.mu.Lock()
	select {
	case <-f.done:
	default:
		close(f.done)
	}
	conns := f.conns
	f.mu.Unlock()
	f.l.Close()
	for _, c := range conns {
		c.Close()
	}
	f.wg.Wait()
}

// TestFrozenCatalogBackend freezes the etcd a node's catalog lives on: the
// node turns unready naming the catalog, and SIGTERM still stops it within
// node.StopTimeout (it took 7.9 s before Stop was bounded).
func TestFrozenCatalogBackend(t *testing.T) {
	endpoints := etcdtest.Start(t, etcdtest.NoFsync())
	proxy := newFreezer(t, strings.TrimPrefix(endpoints[0], "http://"))
	p := runNode(t, "--catalog", "etcd://"+proxy.Addr()+"/frozen")

	proxy.Freeze()
	testkit.Eventually(t, func() bool {
		code, body := p.tryGet("/readyz")
		return code == 503 && strings.Contains(body, "catalog:")
	}, 20*time.Second, "/readyz does not name the catalog while its backend is frozen")
	_, body := p.tryGet("/readyz")
	t.Logf("/readyz with the catalog frozen: %s", strings.TrimSpace(body))

	if err := p.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	bound := node.StopTimeout + 3*time.Second // the bound, plus slack for a loaded machine
	select {
	case <-p.exited:
		t.Logf("stopped %s after SIGTERM", time.Since(start).Round(10*time.Millisecond)) // reported, not asserted
	case <-time.After(bound):
		t.Fatalf("the node did not exit within %s of SIGTERM with its catalog frozen:\n%s", bound, p.stderr)
	}
	if err := p.err(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "node stopped") {
		t.Fatalf("no orderly stop in the log:\n%s", p.stderr)
	}
}
