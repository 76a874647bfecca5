package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/node"
	"github.com/arbor-db/arbor/testkit"
	"github.com/asynkron/protoactor-go/actor"
)

func testConfig(t *testing.T) Config {
	return Config{DataDir: filepath.Join(t.TempDir(), "data"), Listen: "127.0.0.1:0", HTTP: "127.0.0.1:0", LogLevel: "error"}
}

func startTestNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := StartNode(cfg, testkit.QuietLogger(), testkit.NewManualClock())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestNodeServesHealthReadinessAndMetrics(t *testing.T) {
	n := startTestNode(t, testConfig(t))
	base := "http://" + n.HTTPAddr()
	if code, body := get(t, base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d", code)
	}
	// A subsystem under the guardian makes protoactor record message metrics.
	res, err := n.System().Root.RequestFuture(n.Guardian(), &node.SpawnSubsystem{
		Name: "echo", Props: actor.PropsFromFunc(func(actor.Context) {}),
	}, time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.(*node.SubsystemSpawned); !ok {
		t.Fatalf("spawn: %#v", res)
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{"arbor_node_ready 1", "arbor_node_start_time_seconds", "protoactor_actor_spawn_count", "go_goroutines"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	n.Stop()
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("HTTP still served after Stop")
	}
	n.Stop() // idempotent
}

func TestNodeReportsPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()

	cfg := testConfig(t)
	cfg.HTTP = addr
	if _, err := StartNode(cfg, testkit.QuietLogger(), testkit.NewManualClock()); err == nil ||
		!strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "--http") {
		t.Fatalf("http port in use: %v", err)
	}
	cfg = testConfig(t)
	cfg.Listen = addr
	if _, err := StartNode(cfg, testkit.QuietLogger(), testkit.NewManualClock()); err == nil ||
		!strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "--listen") {
		t.Fatalf("remote port in use: %v", err)
	}
}

func TestNodeReportsUnusableDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.DataDir = filepath.Join(file, "data") // a file cannot hold a directory
	_, err := StartNode(cfg, testkit.QuietLogger(), testkit.NewManualClock())
	if err == nil || !strings.Contains(err.Error(), "data dir") || !strings.Contains(err.Error(), cfg.DataDir) {
		t.Fatalf("unusable data dir: %v", err)
	}
}
