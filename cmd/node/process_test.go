package main

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arbor-db/arbor/testkit"
)

// nodeProc is a node running as a child process (see TestMain).
type nodeProc struct {
	listen, http string
	stderr       *bytes.Buffer
	exited       chan struct{} // closed when the process has exited
	mu           sync.Mutex
	exitErr      error
	signal       func(syscall.Signal) error
}

// runNode starts a node process on free ports with args added and waits
// until /readyz says ready. The process is killed at the end of the test if
// it is still running.
func runNode(t *testing.T, args ...string) *nodeProc {
	t.Helper()
	p := &nodeProc{listen: freeAddr(t), http: freeAddr(t), exited: make(chan struct{})}
	cmd, stderr := nodeCommand(t, append([]string{"--data-dir", filepath.Join(t.TempDir(), "data"),
		"--listen", p.listen, "--http", p.http}, args...)...)
	p.stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	p.signal = func(s syscall.Signal) error { return cmd.Process.Signal(s) }
	testkit.Eventually(t, func() bool {
		code, _ := p.tryGet("/readyz")
		return code == 200
	}, 20*time.Second, "node did not become ready")
	return p
}

// tryGet fetches path from the node's HTTP endpoints; code 0 when it
// cannot connect.
func (p *nodeProc) tryGet(path string) (int, string) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + p.http + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// requireServing fails the test unless the process is alive and /healthz
// and /readyz both answer 200.
func (p *nodeProc) requireServing(t *testing.T, after string) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("after %s the node exited (%v):\n%s", after, p.err(), p.stderr)
	default:
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := p.tryGet(path); code != 200 {
			t.Fatalf("after %s %s answers %d %q", after, path, code, strings.TrimSpace(body))
		}
	}
}

func (p *nodeProc) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}
