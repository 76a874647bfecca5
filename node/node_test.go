package node

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rootguardian "github.com/arbor-db/arbor/actors/node"
	"github.com/arbor-db/arbor/testkit"
	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
)

func testConfig(t *testing.T) Config {
	return Config{DataDir: filepath.Join(t.TempDir(), "data"), Listen: "127.0.0.1:0", HTTP: "127.0.0.1:0", LogLevel: "error"}
}

// startTestNode starts a node on cfg with a manual clock. At the end of the
// test it is stopped and every goroutine the test started must end.
func startTestNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	before := goleak.IgnoreCurrent()
	n, err := Start(cfg, testkit.QuietLogger(), testkit.NewManualClock())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop()
		awaitQuiet(t, before)
	})
	return n
}

// awaitQuiet waits until the goroutines started since before have ended.
// Subsystems stop concurrently, so a few messages between them end as dead
// letters at stop, and protoactor's dead-letter throttle keeps a goroutine
// for one interval (a second) after the last one.
func awaitQuiet(t *testing.T, before goleak.Option) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = goleak.Find(testkit.LeakOptions(append([]goleak.Option{before}, gossipThrottles...)...)...); err == nil {
			return
		}
	}
	t.Errorf("goroutines left after the node stopped: %v", err)
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
	res, err := n.System().Root.RequestFuture(n.Guardian(), &rootguardian.SpawnSubsystem{
		Name: "echo", Props: actor.PropsFromFunc(func(actor.Context) {}),
	}, time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.(*rootguardian.SubsystemSpawned); !ok {
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
	if _, err := Start(cfg, testkit.QuietLogger(), testkit.NewManualClock()); err == nil ||
		!strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "--http") {
		t.Fatalf("http port in use: %v", err)
	}
	cfg = testConfig(t)
	cfg.Listen = addr
	if _, err := Start(cfg, testkit.QuietLogger(), testkit.NewManualClock()); err == nil ||
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
	_, err := Start(cfg, testkit.QuietLogger(), testkit.NewManualClock())
	if err == nil || !strings.Contains(err.Error(), "data dir") || !strings.Contains(err.Error(), cfg.DataDir) {
		t.Fatalf("unusable data dir: %v", err)
	}
}

func spawnSubsystem(t *testing.T, n *Node, name string, props *actor.Props) *actor.PID {
	t.Helper()
	res, err := n.System().Root.RequestFuture(n.Guardian(), &rootguardian.SpawnSubsystem{Name: name, Props: props}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	spawned, ok := res.(*rootguardian.SubsystemSpawned)
	if !ok {
		t.Fatalf("spawn %s: %#v", name, res)
	}
	return spawned.PID
}

func readyz(t *testing.T, n *Node) (int, string) {
	t.Helper()
	return get(t, "http://"+n.HTTPAddr()+"/readyz")
}

func TestReadyzNamesAStoppedSubsystem(t *testing.T) {
	n := startTestNode(t, testConfig(t))
	pid := spawnSubsystem(t, n, "echo", actor.PropsFromFunc(func(actor.Context) {}))
	if code, body := readyz(t, n); code != 200 {
		t.Fatalf("/readyz before: %d %q", code, body)
	}
	n.System().Root.Stop(pid)
	testkit.Eventually(t, func() bool {
		code, body := readyz(t, n)
		return code == 503 && strings.Contains(body, "echo: stopped")
	}, testkit.DefaultTimeout, "/readyz does not name the stopped subsystem")
	select {
	case reason := <-n.Halted():
		t.Fatalf("a node without an optional subsystem halted: %s", reason)
	default:
	}
}

func TestLosingTheCatalogGuardianHaltsTheNode(t *testing.T) {
	n := startTestNode(t, testConfig(t))
	n.System().Root.Stop(n.catalog.pid)
	select {
	case reason := <-n.Halted():
		if !strings.Contains(reason, "catalog guardian stopped") {
			t.Fatalf("halt reason %q does not say the catalog guardian stopped", reason)
		}
	case <-time.After(testkit.DefaultTimeout):
		t.Fatal("the node did not halt")
	}
	if code, body := readyz(t, n); code != 503 || !strings.Contains(body, "catalog: stopped") {
		t.Fatalf("/readyz: %d %q", code, body)
	}
}

func TestReadyzNamesASubsystemThatStopsAnswering(t *testing.T) {
	clk := testkit.NewManualClock()
	n, err := Start(testConfig(t), testkit.QuietLogger(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	type status struct{}
	stuck := spawnSubsystem(t, n, "stuck", actor.PropsFromFunc(func(actor.Context) {})) // answers nothing
	n.System().Root.Send(n.monitor, &addProbe{target: probeTarget{
		name: "stuck", pid: stuck, request: &status{},
		judge: func(m any) (bool, string, bool) { _, ok := m.(*status); return ok, "", ok },
	}})
	testkit.Eventually(t, func() bool {
		clk.Advance(probeInterval) // one probe tick per try, on the node's clock
		code, body := readyz(t, n)
		return code == 503 && strings.Contains(body, "stuck: no answer to a status probe")
	}, testkit.DefaultTimeout, "/readyz does not name the subsystem that does not answer")
}

func TestStopIsBoundedWhenASubsystemHangs(t *testing.T) {
	before := goleak.IgnoreCurrent()
	n := startTestNode(t, testConfig(t))
	release := make(chan struct{})
	entered := make(chan struct{})
	spawnSubsystem(t, n, "frozen", actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*actor.Stopping); ok {
			close(entered)
			<-release // a backend call that does not come back
		}
	}))
	stopped := make(chan struct{})
	go func() { defer close(stopped); n.Stop() }()
	<-entered
	select {
	case <-stopped:
	case <-time.After(StopTimeout + 5*time.Second):
		t.Fatalf("Stop did not return within %s", StopTimeout+5*time.Second)
	}
	// Let the hung actor finish; what it leaves (protoactor's dead-letter
	// throttle lives one interval) must be gone before the next test.
	close(release)
	awaitQuiet(t, before)
}
