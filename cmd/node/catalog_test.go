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

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/testkit"
)

func TestParseCatalogSpec(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    catalogSpec
		wantErr bool
	}{
		{in: "", want: catalogSpec{}},
		{in: "etcd://127.0.0.1:2379/prod", want: catalogSpec{Endpoints: []string{"http://127.0.0.1:2379"}, Prefix: "/prod/catalog"}},
		{in: "etcd://a:1,b:2", want: catalogSpec{Endpoints: []string{"http://a:1", "http://b:2"}, Prefix: "/arbor/catalog"}},
		{in: "pebble:///tmp/x", wantErr: true},
		{in: "etcd:///nohost", wantErr: true},
	} {
		got, err := parseCatalogSpec(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrBadConfig) {
				t.Errorf("%q: want ErrBadConfig, got %v", tc.in, err)
			}
			continue
		}
		if err != nil || got.Prefix != tc.want.Prefix || strings.Join(got.Endpoints, ";") != strings.Join(tc.want.Endpoints, ";") {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestSecondNodeOnSamePebbleDirFailsAtOnce(t *testing.T) {
	cfg := testConfig(t)
	startTestNode(t, cfg)
	_, err := StartNode(cfg, testkit.QuietLogger(), testkit.NewManualClock())
	if !errors.Is(err, persistence.ErrDataDirInUse) || !strings.Contains(err.Error(), "data dir in use") {
		t.Fatalf("second node on the same data dir: %v", err)
	}
}

func etcdCatalog(t *testing.T) string {
	endpoints := etcdtest.Start(t, etcdtest.NoFsync())
	return "etcd://" + strings.TrimPrefix(endpoints[0], "http://") + "/test"
}

func TestNewerDeployGenerationFencesOlderNodes(t *testing.T) {
	catalogURL := etcdCatalog(t)
	start := func(generation uint64) (*Node, error) {
		cfg := testConfig(t)
		cfg.Catalog, cfg.DeployGeneration = catalogURL, generation
		n, err := StartNode(cfg, testkit.QuietLogger(), clock.Real())
		if err == nil {
			t.Cleanup(n.Stop)
		}
		return n, err
	}
	old, err := start(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := start(2); err != nil {
		t.Fatal(err)
	}
	select {
	case reason := <-old.Halted():
		for _, want := range []string{"(generation 1, epoch 1)", "(generation 2, epoch 2)"} {
			if !strings.Contains(reason, want) {
				t.Fatalf("halt reason %q does not name %s", reason, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the older node was not halted")
	}
	// An old generation cannot come back.
	_, err = start(1)
	var fe *durable.FenceError
	if !errors.As(err, &fe) || fe.Kind != durable.FenceDeployGeneration {
		t.Fatalf("restarting generation 1: %v", err)
	}
}

// startNodeProcess runs a node binary on the catalog and waits until it is
// ready. Its stderr may be read once it has exited.
func startNodeProcess(t *testing.T, catalogURL string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	httpAddr := freeAddr(t)
	cmd, stderr := nodeCommand(t, "--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", freeAddr(t), "--http", httpAddr, "--catalog", catalogURL)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
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

	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitFenced {
			t.Fatalf("fenced node exit: %v\n%s", err, firstErr)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the first node did not exit after being fenced:\n%s", firstErr)
	}
	t.Logf("the fenced node's last words: %s", lastLine(firstErr.String()))
	for _, want := range []string{"fenced", "(generation 0, epoch 1)", "(generation 0, epoch 2)"} {
		if !strings.Contains(firstErr.String(), want) {
			t.Fatalf("fenced node's message does not name %q:\n%s", want, firstErr)
		}
	}
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

func TestNodeOpensItsCatalogAndExportsCatalogMetrics(t *testing.T) {
	n := startTestNode(t, testConfig(t))
	code, body := get(t, "http://"+n.HTTPAddr()+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`arbor_catalog_entries{kind="fence_token"} 1`,
		`arbor_catalog_opens_total 1`,
		`arbor_catalog_commits_total{result="ok"} 0`,
		`arbor_catalog_fence_events_total 0`,
		`arbor_catalog_commit_duration_seconds_count 0`,
		`arbor_catalog_syncs_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
