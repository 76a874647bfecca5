package main

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arbor-db/arbor/testkit"
	"go.uber.org/goleak"
)

// TestMain doubles as the node binary: with ARBOR_NODE_MAIN=1 the test
// binary runs main's logic, so tests drive real processes without a build.
func TestMain(m *testing.M) {
	if os.Getenv("ARBOR_NODE_MAIN") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	goleak.VerifyTestMain(m, testkit.LeakOptions()...)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func nodeCommand(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ARBOR_NODE_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

func TestBinaryStartsServesAndStopsOnSignal(t *testing.T) {
	listen, httpAddr := freeAddr(t), freeAddr(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	cmd, stderr := nodeCommand(t, "--data-dir", dataDir, "--listen", listen, "--http", httpAddr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, func() bool {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 10*time.Second, "node did not answer /healthz")

	// A second node on the same ports fails fast and names the address.
	second, secondErr := nodeCommand(t, "--data-dir", filepath.Join(t.TempDir(), "d2"), "--listen", listen, "--http", httpAddr)
	err := second.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() == 0 {
		t.Fatalf("second node: %v", err)
	}
	if !strings.Contains(secondErr.String(), httpAddr) {
		t.Fatalf("second node's message does not name %s:\n%s", httpAddr, secondErr)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node exit after SIGINT: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "node stopped") {
		t.Fatalf("no orderly stop in the log:\n%s", stderr)
	}
	if _, err := os.Stat(dataDir); err != nil {
		t.Fatalf("data dir not created: %v", err)
	}
}

func TestBinaryRejectsBadFlags(t *testing.T) {
	cmd, stderr := nodeCommand(t, "--log-level", "shouty")
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 {
		t.Fatalf("bad flag exit: %v", err)
	}
	first, _ := bufio.NewReader(stderr).ReadString('\n')
	if !strings.Contains(first, "log-level") {
		t.Fatalf("message does not name the flag: %q", first)
	}
}

// TestBinaryStartsEverySubsystem is `make run` in a test: the binary on a
// fresh data dir becomes ready with storage, the query tracker and the
// default cluster running, each keeping its state under the data dir.
func TestBinaryStartsEverySubsystem(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := runNode(t, "--data-dir", dataDir) // the last --data-dir wins
	p.requireServing(t, "start")
	if _, body := p.tryGet("/readyz"); strings.TrimSpace(body) != "ready" {
		t.Fatalf("/readyz body %q", body)
	}
	testkit.Eventually(t, func() bool {
		_, metrics := p.tryGet("/metrics")
		return strings.Contains(metrics, `arbor_compute_replica_count{cluster="u1"} 1`) &&
			strings.Contains(metrics, "arbor_storage_tables 0") &&
			strings.Contains(metrics, "arbor_querytracker_tracked_peeks 0")
	}, 10*time.Second, "/metrics does not show storage, the query tracker and the default cluster")
	for _, dir := range []string{"catalog", "storage", filepath.Join("compute", "u1")} {
		if _, err := os.Stat(filepath.Join(dataDir, dir)); err != nil {
			t.Errorf("no %s under the data dir: %v", dir, err)
		}
	}
	if err := p.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the node did not exit after SIGTERM:\n%s", p.stderr)
	}
	if err := p.err(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
}
