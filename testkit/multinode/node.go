package multinode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Bounds on waiting for a node process. The node bounds its own stop to
// about 5 s; these leave room for a loaded machine.
const (
	// DefaultReadyTimeout bounds the wait for /readyz after a start.
	DefaultReadyTimeout = 30 * time.Second
	// ExitTimeout bounds the wait for a process to exit after SIGTERM or
	// SIGKILL.
	ExitTimeout = 15 * time.Second
)

// ErrExited is returned by WaitReady when the process exits before it is
// ready.
var ErrExited = errors.New("multinode: the node exited")

// Node is one node of a Cluster: a child process of the test, its data
// directory, its ports (kept across restarts) and the Proxy in front of its
// remote port, whose address is the one the node advertises. A node starts,
// stops and restarts any number of times; each start is a new incarnation
// on the same data directory.
//
// Methods that drive the process fail the test when the process does not
// do what it must within a bounded wait.
type Node struct {
	t            testing.TB
	name         string
	binary       string
	args         []string // every flag but the per-test extras
	dataDir      string
	listen, http string
	membership   string // its membership endpoint with Config.Join
	proxy        *Proxy
	readyTimeout time.Duration
	log          *syncBuffer // every incarnation's stderr and stdout

	mu          sync.Mutex
	proc        *process // the latest incarnation; nil before the first start
	incarnation int
}

// process is one incarnation of a node.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
	err    error         // cmd.Wait's result, set before exited closes
}

// Name is the node's name in the cluster ("n1", "n2", ...), also its name
// as a traffic source (Link, Proxy.BlackholeFrom).
func (n *Node) Name() string { return n.name }

// Addr is the node's advertised remote address: its proxy's.
func (n *Node) Addr() string { return n.proxy.Addr() }

// ListenAddr is the node's own remote port, behind the proxy.
func (n *Node) ListenAddr() string { return n.listen }

// MembershipAddr is the node's cluster membership endpoint (its entry in
// every node's --join); empty without Config.Join.
func (n *Node) MembershipAddr() string { return n.membership }

// HTTPAddr is the address of /metrics, /healthz and /readyz.
func (n *Node) HTTPAddr() string { return n.http }

// DataDir is the node's data directory, the same for every incarnation.
func (n *Node) DataDir() string { return n.dataDir }

// Proxy is the proxy in front of the node's remote port: what passes it is
// what the node receives from other processes.
func (n *Node) Proxy() *Proxy { return n.proxy }

// PID is the node's actor id at its advertised address, e.g. PID("node")
// for its root guardian.
func (n *Node) PID(id string) *actor.PID { return actor.NewPID(n.Addr(), id) }

// Incarnation counts the node's starts (1 after the first).
func (n *Node) Incarnation() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.incarnation
}

// Log is everything every incarnation wrote to stderr and stdout.
func (n *Node) Log() string { return n.log.String() }

// Start starts a new incarnation and waits until it is ready; the test
// fails (with the node's log) if it exits first or is not ready within the
// cluster's ready timeout. The node must not be running.
func (n *Node) Start() {
	n.t.Helper()
	if err := n.StartProcess(); err != nil {
		n.t.Fatal(err)
	}
	if err := n.WaitReady(n.readyTimeout); err != nil {
		n.t.Fatalf("%v\n%s", err, n.tail())
	}
}

// Restart is Start after a Stop or Kill: the same data dir, ports and
// proxy.
func (n *Node) Restart() {
	n.t.Helper()
	n.Start()
}

// StartProcess starts a new incarnation without waiting for readiness (for
// a test of a start that must fail, or to start several at once).
func (n *Node) StartProcess() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil && !n.proc.hasExited() {
		return fmt.Errorf("multinode: %s is already running", n.name)
	}
	n.incarnation++
	fmt.Fprintf(n.log, "=== multinode: %s incarnation %d ===\n", n.name, n.incarnation)
	cmd := exec.Command(n.binary, n.args...)
	cmd.Stdout, cmd.Stderr = n.log, n.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("multinode: start %s: %w", n.name, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { // owned by the node: ends when the process exits, which cleanup forces
		p.err = cmd.Wait()
		close(p.exited)
	}()
	n.proc = p
	return nil
}

// WaitReady polls /readyz until it answers 200. It fails with ErrExited
// when the process exits first, and with the last answer when timeout
// passes.
func (n *Node) WaitReady(timeout time.Duration) error {
	p := n.current()
	if p == nil {
		return fmt.Errorf("multinode: %s was never started", n.name)
	}
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		if p.hasExited() {
			return fmt.Errorf("%w: %s (%v) before it was ready", ErrExited, n.name, p.err)
		}
		ok, why := n.Ready()
		if ok {
			return nil
		}
		last = why
		if time.Now().After(deadline) {
			return fmt.Errorf("multinode: %s not ready within %v: %s", n.name, timeout, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ready asks /readyz once: true on 200, otherwise false and why (the body,
// or the connection error).
func (n *Node) Ready() (bool, string) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + n.http + "/readyz")
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK, strings.TrimSpace(string(b))
}

// Metrics returns the node's /metrics text ("" when it does not answer).
func (n *Node) Metrics() string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + n.http + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Running reports whether the latest incarnation is still running.
func (n *Node) Running() bool {
	p := n.current()
	return p != nil && !p.hasExited()
}

// Stop sends SIGTERM and waits for the process to exit; it returns the
// exit code (0 for an orderly stop). The test fails if the process is not
// running or does not exit within ExitTimeout (it is then killed).
func (n *Node) Stop() int {
	n.t.Helper()
	return n.signal(syscall.SIGTERM)
}

// Kill sends SIGKILL and waits for the process to exit: a crash, with no
// chance to stop cleanly. The test fails if it is not running or does not
// exit within ExitTimeout.
func (n *Node) Kill() {
	n.t.Helper()
	n.signal(syscall.SIGKILL)
}

func (n *Node) signal(sig syscall.Signal) int {
	n.t.Helper()
	p := n.current()
	if p == nil || p.hasExited() {
		n.t.Fatalf("multinode: %s: %v to a node that is not running", n.name, sig)
		return -1
	}
	_ = p.cmd.Process.Signal(sig)
	if !p.wait(ExitTimeout) {
		_ = p.cmd.Process.Kill()
		p.wait(ExitTimeout)
		n.t.Fatalf("multinode: %s did not exit within %v of %v; killed\n%s", n.name, ExitTimeout, sig, n.tail())
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// ExitCode is the exit code of the latest incarnation: -1 while it runs,
// when it was killed by a signal, or when it never started.
func (n *Node) ExitCode() int {
	p := n.current()
	if p == nil || !p.hasExited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// kill ends the process, if running, at cleanup.
func (n *Node) kill() {
	p := n.current()
	if p == nil || p.hasExited() {
		return
	}
	_ = p.cmd.Process.Kill()
	p.wait(ExitTimeout)
}

func (n *Node) current() *process {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc
}

// tail is the end of the node's log, for failure messages.
func (n *Node) tail() string {
	const max = 4000
	s := n.log.String()
	if len(s) > max {
		s = "..." + s[len(s)-max:]
	}
	return s
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *process) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
