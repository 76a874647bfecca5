//go:build !race

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
)

// Zero-downtime deploy across two node processes on one embedded etcd
// (docs/deploy.md). Without -race: the test process runs a client remote
// next to etcd's gRPC server, and protoactor's remote.Start replaces
// gRPC's global logger (see the Makefile).

// deployEtcd starts an embedded etcd and returns the --catalog and
// --storage URLs of one deployment on it.
func deployEtcd(t testing.TB) (catalogURL, storageURL string) {
	endpoints := etcdtest.Start(t, etcdtest.NoFsync())
	base := "etcd://" + strings.TrimPrefix(endpoints[0], "http://") + "/deploy"
	return base, base
}

// startDeployNode starts a node process and waits until GET ready on its
// HTTP endpoints answers 200 (/readyz for a serving node, /promote/status
// for a read-only one).
func startDeployNode(t testing.TB, ready string, args ...string) *nodeProc {
	p := &nodeProc{listen: freeAddrTB(t), http: freeAddrTB(t), exited: make(chan struct{})}
	cmd, stderr := nodeCommandTB(append([]string{"--data-dir", filepath.Join(t.TempDir(), "data"),
		"--listen", p.listen, "--http", p.http, "--log-level", "warn"}, args...)...)
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := p.tryGet(ready)
		if code == 200 {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("node exited before %s answered 200 (%v):\n%s", ready, p.err(), p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 30s: %d %s\n%s", ready, code, body, p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddrTB is freeAddr for tests and benchmarks.
func freeAddrTB(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// nodeCommandTB is nodeCommand for tests and benchmarks.
func nodeCommandTB(args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ARBOR_NODE_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// exitCode waits for p to exit (at most d) and returns its exit code.
func (p *nodeProc) exitCode(t testing.TB, d time.Duration) int {
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("the node did not exit within %s:\n%s", d, p.stderr)
	}
	var exit *exec.ExitError
	if err := p.err(); errors.As(err, &exit) {
		return exit.ExitCode()
	} else if err != nil {
		t.Fatalf("exit: %v", err)
	}
	return 0
}

func post(t testing.TB, url string) (int, string) {
	c := http.Client{Timeout: 60 * time.Second}
	resp, err := c.Post(url, "application/json", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// poller peeks a collection every 10 ms through a failover client and
// records when peeks succeed.
type poller struct {
	mu        sync.Mutex
	successes []time.Time
	failures  []string
	lastRows  int
}

func (p *poller) run(ctx context.Context, c *client.Client, collection string) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := c.Peek(pctx, collection)
		cancel()
		p.mu.Lock()
		if err == nil {
			p.successes = append(p.successes, time.Now())
			p.lastRows = len(res.Rows)
		} else if ctx.Err() == nil {
			p.failures = append(p.failures, err.Error())
		}
		p.mu.Unlock()
	}
}

// window is the longest gap between two successful peeks at or after
// from, and when it began.
func (p *poller) window(from time.Time) (time.Duration, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var longest time.Duration
	var at time.Time
	for i := 1; i < len(p.successes); i++ {
		if p.successes[i].Before(from) {
			continue
		}
		if gap := p.successes[i].Sub(p.successes[i-1]); gap > longest {
			longest, at = gap, p.successes[i-1]
		}
	}
	return longest, at
}

func (p *poller) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.successes)
}

// deployRun is one zero-downtime deploy: A (generation 1) serves a table
// with an index and rows; B (generation 2) boots read-only on the same
// etcd catalog and storage and reports ready to promote; a client peeks
// every 10 ms and another writes every 20 ms, both knowing both
// addresses; B is promoted; A exits naming the fence.
type deployRun struct {
	window  time.Duration
	acked   []int64
	rows    []int64
	aStderr string
	aExit   int
	peeks   int
	fails   []string
}

func runDeploy(t testing.TB, writes bool) deployRun {
	catalogURL, storageURL := deployEtcd(t)
	a := startDeployNode(t, "/readyz", "--catalog", catalogURL, "--storage", storageURL, "--deploy-generation", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	setup, err := client.Dial(ctx, a.listen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: []client.Column{{Name: "id", Type: client.Int64}, {Name: "customer", Type: client.String, Nullable: true}}, Key: []string{"id"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.CreateIndex(ctx, "orders_by_id", "orders", []string{"id"}, "default"); err != nil {
		t.Fatal(err)
	}
	var acked []int64
	var ackedMu sync.Mutex
	for i := int64(1); i <= 3; i++ {
		if _, err := setup.Insert(ctx, "orders", client.Row{i, fmt.Sprintf("c%d", i)}); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, i)
	}
	_ = setup.Close()

	// A serving node is not promotable; /promote takes only POST.
	if code, body := post(t, "http://"+a.http+"/promote"); code != http.StatusConflict || !strings.Contains(body, "read-only") {
		t.Fatalf("POST /promote to the serving node: %d %s", code, body)
	}
	if code, _ := a.tryGet("/promote"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /promote: %d", code)
	}
	if code, body := a.tryGet("/promote/status"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"read_only":false`) {
		t.Fatalf("GET /promote/status on the serving node: %d %s", code, body)
	}

	b := startDeployNode(t, "/promote/status", "--catalog", catalogURL, "--storage", storageURL, "--deploy-generation", "2", "--read-only")
	// The read-only node refuses sessions: a client that names it first
	// opens its session on the serving node.
	if code, body := b.tryGet("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "read-only") {
		t.Fatalf("/readyz of the read-only node: %d %s", code, body)
	}
	if _, err := client.Dial(ctx, b.listen); !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("dial the read-only node alone: %v, want UNAVAILABLE read-only", err)
	}
	bFirst, err := client.Dial(ctx, b.listen, client.WithAddresses(a.listen))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := bFirst.Peek(ctx, "orders"); err != nil || len(res.Rows) != 3 {
		t.Fatalf("peek through a client that named the read-only node first: %v %v", res, err)
	}
	_ = bFirst.Close()

	opts := []client.Option{client.WithAddresses(b.listen), client.WithFailover(30 * time.Second), client.WithAttemptTimeout(250 * time.Millisecond)}
	reader, err := client.Dial(ctx, a.listen, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	writer, err := client.Dial(ctx, a.listen, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()

	var p poller
	pollCtx, stopPolling := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.run(pollCtx, reader, "orders") }()
	var writeErrs []error
	go func() {
		defer wg.Done()
		if !writes {
			return
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for id := int64(100); ; id++ {
			select {
			case <-pollCtx.Done():
				return
			case <-tick.C:
			}
			wctx, cancel := context.WithTimeout(pollCtx, 5*time.Second)
			_, err := writer.Insert(wctx, "orders", client.Row{id, "w"})
			cancel()
			ackedMu.Lock()
			if err == nil {
				acked = append(acked, id)
			} else if pollCtx.Err() == nil {
				writeErrs = append(writeErrs, err)
			}
			ackedMu.Unlock()
		}
	}()
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s within 30s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("peeks succeed on A", func() bool { return p.count() >= 20 })

	promoted := time.Now()
	if code, body := post(t, "http://"+b.http+"/promote"); code != 200 {
		t.Fatalf("POST /promote: %d %s\n%s", code, body, b.stderr)
	}
	aExit := a.exitCode(t, 20*time.Second)
	exited := time.Now()
	before := p.count()
	waitFor("peeks succeed after A exited", func() bool { return p.count() >= before+50 })
	stopPolling()
	wg.Wait()
	if p.lastRows == 0 {
		t.Fatalf("the last peeks read no rows")
	}

	// Every acknowledged write is on B.
	final, err := client.Dial(ctx, b.listen)
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	res, err := final.Peek(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	var rows []int64
	for _, r := range res.Rows {
		rows = append(rows, r[0].(int64))
	}
	window, at := p.window(promoted)
	run := deployRun{window: window, acked: acked, rows: rows, aStderr: a.stderr.String(), aExit: aExit, peeks: p.count(), fails: p.failures}
	t.Logf("promotion at +0; A exited after %s; longest gap between successful peeks %s (from +%s); %d peeks ok, %d failed; %d writes acknowledged, %d failed",
		exited.Sub(promoted).Round(time.Millisecond), window.Round(time.Millisecond), at.Sub(promoted).Round(time.Millisecond),
		run.peeks, len(p.failures), len(acked), len(writeErrs))
	for i, f := range p.failures {
		if i == 3 {
			break
		}
		t.Logf("a failed peek: %s", f)
	}
	for i, err := range writeErrs {
		if i < 3 {
			t.Logf("a failed write: %v", err)
		}
		// A write is never silently retried: it fails naming the failover
		// (or the fence), and the client moves on.
		if !errors.Is(err, client.ErrFailover) && !errors.Is(err, messages.ErrFenced) {
			t.Errorf("a write failed with %v, want ErrFailover or FENCED", err)
		}
	}
	return run
}

// TestPromotionFencesTheOldGenerationWithoutLosingWrites is issue 12's
// failover test: see deployRun.
func TestPromotionFencesTheOldGenerationWithoutLosingWrites(t *testing.T) {
	run := runDeploy(t, true)
	checkDeploy(t, run)
}

// TestPromotionFencesAnIdleOldGeneration: without writes the old node
// learns of the fence from its catalog leadership check (within a
// second) and halts the same way.
func TestPromotionFencesAnIdleOldGeneration(t *testing.T) {
	run := runDeploy(t, false)
	checkDeploy(t, run)
	if !strings.Contains(run.aStderr, "catalog fenced by a newer environment") {
		t.Fatalf("the idle old node did not halt through its catalog:\n%s", run.aStderr)
	}
}

func checkDeploy(t *testing.T, run deployRun) {
	t.Helper()
	if run.aExit != exitHalted {
		t.Fatalf("A exited with %d, want %d:\n%s", run.aExit, exitHalted, run.aStderr)
	}
	for _, want := range []string{"fenced", "(generation 1, epoch 1)", "(generation 2, epoch 2)"} {
		if !strings.Contains(run.aStderr, want) {
			t.Fatalf("A's last words do not name %q:\n%s", want, run.aStderr)
		}
	}
	t.Logf("A's last words: %s", lastLine(run.aStderr))
	for _, id := range run.acked {
		if !slices.Contains(run.rows, id) {
			t.Fatalf("acknowledged write %d is missing after the promotion; B has %v", id, run.rows)
		}
	}
	t.Logf("unavailability window: %s", run.window.Round(time.Millisecond))
}

// BenchmarkPromotionUnavailability reports the longest gap between
// successful peeks (every 10 ms) across a promotion ("unavail-ms", target
// ≤ 1 s), beside the same gap when the client only reconnects to the
// serving node ("baseline-reconnect-ms"): close the session, dial again,
// peek. Run it with -benchtime 1x: each iteration is a whole deploy.
func BenchmarkPromotionUnavailability(b *testing.B) {
	for i := 0; i < b.N; i++ {
		run := runDeploy(b, true)
		b.ReportMetric(float64(run.window.Microseconds())/1000, "unavail-ms")
		b.ReportMetric(reconnectBaseline(b), "baseline-reconnect-ms")
	}
}

// reconnectBaseline measures, against one serving node, the gap between
// a successful peek and the next one on a new session of a new client.
func reconnectBaseline(b *testing.B) float64 {
	catalogURL, storageURL := deployEtcd(b)
	n := startDeployNode(b, "/readyz", "--catalog", catalogURL, "--storage", storageURL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Dial(ctx, n.listen)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: []client.Column{{Name: "id", Type: client.Int64}}}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Peek(ctx, "orders"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	_ = c.Close()
	c2, err := client.Dial(ctx, n.listen)
	if err != nil {
		b.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Peek(ctx, "orders"); err != nil {
		b.Fatal(err)
	}
	return float64(time.Since(start).Microseconds()) / 1000
}
