package main

import (
	"bytes"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arbor-db/arbor/node"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/testkit"
)

func TestSecondNodeOnSamePebbleDirFailsAtOnce(t *testing.T) {
	cfg := node.Config{DataDir: filepath.Join(t.TempDir(), "data"), Listen: "127.0.0.1:0", HTTP: "127.0.0.1:0", LogLevel: "error"}
	n, err := node.Start(cfg, testkit.QuietLogger(), testkit.NewManualClock())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	// The second node runs as its own process: two remotes started
	// concurrently in one process race on gRPC's global logger.
	second, stderr := nodeCommand(t, "--data-dir", cfg.DataDir, "--listen", freeAddr(t), "--http", freeAddr(t))
	err = second.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("second node on the same data dir: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "data dir in use") {
		t.Fatalf("second node's message does not say the data dir is in use:\n%s", stderr)
	}
}

func etcdCatalog(t *testing.T) string {
	endpoints := etcdtest.Start(t, etcdtest.NoFsync())
	return "etcd://" + strings.TrimPrefix(endpoints[0], "http://") + "/test"
}

func TestNewerDeployGenerationFencesOlderNodes(t *testing.T) {
	catalogURL := etcdCatalog(t)
	old, oldErr := startNodeProcess(t, catalogURL, "--deploy-generation", "1")
	startNodeProcess(t, catalogURL, "--deploy-generation", "2")
	requireExit(t, old, oldErr, exitHalted, "deploy generation", "(generation 1, epoch 1)", "(generation 2, epoch 2)")

	// An old generation cannot come back.
	again, againErr := nodeCommand(t, "--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", freeAddr(t), "--http", freeAddr(t),
		"--catalog", catalogURL, "--deploy-generation", "1")
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	requireExit(t, again, againErr, 1, "fenced by deploy generation", "(generation 2, epoch 2)")
}

// requireExit waits for cmd to exit with code and a message containing
// every one of wants.
func requireExit(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, code int, wants ...string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != code {
			t.Fatalf("exit: %v, want code %d\n%s", err, code, stderr)
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("the node did not exit:\n%s", stderr)
	}
	for _, want := range wants {
		if !strings.Contains(stderr.String(), want) {
			t.Fatalf("the node's message does not name %q:\n%s", want, stderr)
		}
	}
}

// startNodeProcess runs a node binary on the catalog and waits until it is
// ready. Its stderr may be read once it has exited.
func startNodeProcess(t *testing.T, catalogURL string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	httpAddr := freeAddr(t)
	cmd, stderr := nodeCommand(t, append([]string{"--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", freeAddr(t), "--http", httpAddr, "--catalog", catalogURL}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	testkit.Eventually(t, func() bool {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 20*time.Second, "node did not become ready")
	return cmd, stderr
}

func TestSecondNodeOnEtcdCatalogFencesTheFirstWhichExitsNonZero(t *testing.T) {
	catalogURL := etcdCatalog(t)
	first, firstErr := startNodeProcess(t, catalogURL)
	second, secondErr := startNodeProcess(t, catalogURL)

	requireExit(t, first, firstErr, exitHalted, "fenced", "(generation 0, epoch 1)", "(generation 0, epoch 2)")
	t.Logf("the fenced node's last words: %s", lastLine(firstErr.String()))
	if err := second.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("second node exit after SIGINT: %v\n%s", err, secondErr)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
