//go:build !race

package processtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit/multinode"
)

// Bounds on every wait of these tests. Nothing asserts a duration below
// them; the times that matter are measured and logged.
const (
	convergeTimeout = 30 * time.Second
	replaceTimeout  = 60 * time.Second
	peekTimeout     = 3 * time.Second
)

var itemColumns = []client.Column{
	{Name: "id", Type: client.Int64},
	{Name: "amount", Type: client.Int64, Nullable: true},
}

// startCluster starts three node processes as one static cluster: n1 has
// both roles (it runs the environment and may run replicas), n2 and n3
// only compute. memberTimeout is each node's --member-timeout.
func startCluster(t testing.TB, memberTimeout string) *multinode.Cluster {
	t.Helper()
	return multinode.Start(t, multinode.Config{
		Nodes: 3, Join: true,
		Args:     []string{"--member-timeout", memberTimeout},
		NodeArgs: [][]string{nil, {"--roles", "compute"}, {"--roles", "compute"}},
	})
}

// dial connects a client to the environment node.
func dial(t testing.TB, ctx context.Context, n *multinode.Node) *client.Client {
	t.Helper()
	cl, err := client.Dial(ctx, n.Addr())
	if err != nil {
		t.Fatalf("dial %s: %v", n.Name(), err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// waitView polls the environment's view of the cluster until cond holds,
// at most timeout; it returns the view that satisfied cond.
func waitView(t testing.TB, ctx context.Context, cl *client.Client, timeout time.Duration, what string, cond func(client.NodesView) bool) client.NodesView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last []byte
	var lastErr error
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		v, b, err := cl.Nodes(cctx)
		cancel()
		if err == nil && cond(v) {
			return v
		}
		last, lastErr = b, err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s; last view (err %v):\n%s", what, timeout, lastErr, last)
	return client.NodesView{}
}

// upMembers counts the members up in a view.
func upMembers(v client.NodesView) int {
	n := 0
	for _, m := range v.Members {
		if m.State == "up" {
			n++
		}
	}
	return n
}

// replicasOf returns the replicas of one cluster in a view, by name.
func replicasOf(v client.NodesView, cluster string) map[string]client.ReplicaPlacement {
	out := map[string]client.ReplicaPlacement{}
	for _, r := range v.Replicas {
		if r.Cluster == cluster {
			out[r.Replica] = r
		}
	}
	return out
}

// allHydrated: every named replica of cluster is active, hydrated and
// placed on a node.
func allHydrated(cluster string, names ...string) func(client.NodesView) bool {
	return func(v client.NodesView) bool {
		rs := replicasOf(v, cluster)
		for _, n := range names {
			r, ok := rs[n]
			if !ok || !r.Hydrated || r.Node == "" {
				return false
			}
		}
		return true
	}
}

// oracle is the rows a client was told were written: "id amount" lines,
// sorted.
type oracle struct {
	mu   sync.Mutex
	rows map[int64]int64
}

func newOracle() *oracle { return &oracle{rows: map[int64]int64{}} }

func (o *oracle) add(id, amount int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rows[id] = amount
}

func (o *oracle) want() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for id, a := range o.rows {
		out = append(out, fmt.Sprint(id, " ", a))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// insert writes rows [from, to) and records them in the oracle once
// acknowledged.
func insert(t testing.TB, ctx context.Context, cl *client.Client, o *oracle, from, to int64) {
	t.Helper()
	var rows []client.Row
	for i := from; i < to; i++ {
		rows = append(rows, client.Row{i, i * 10})
	}
	if _, err := cl.Insert(ctx, "items", rows...); err != nil {
		t.Fatalf("insert %d..%d: %v", from, to, err)
	}
	for i := from; i < to; i++ {
		o.add(i, i*10)
	}
}

// peekRows peeks a collection within peekTimeout and renders its rows as
// the oracle does.
func peekRows(ctx context.Context, cl *client.Client, name string) (string, error) {
	pctx, cancel := context.WithTimeout(ctx, peekTimeout)
	defer cancel()
	res, err := cl.Peek(pctx, name)
	if err != nil {
		return "", err
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, fmt.Sprint(r[0], " ", r[1]))
	}
	slices.Sort(got)
	return strings.Join(got, "\n"), nil
}

// waitPeek peeks until the answer is the oracle's, at most timeout.
func waitPeek(t testing.TB, ctx context.Context, cl *client.Client, name string, o *oracle, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	var err error
	for time.Now().Before(deadline) {
		if got, err = peekRows(ctx, cl, name); err == nil && got == o.want() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("peek %s: not the oracle's rows within %s (err %v)\ngot:\n%s\nwant:\n%s", name, timeout, err, got, o.want())
}

// setupItems creates the table items, a cluster c with replicas r1 and
// r2, a view over items indexed on c, and writes rows 0..n.
func setupItems(t testing.TB, ctx context.Context, cl *client.Client, o *oracle, n int64) {
	t.Helper()
	if _, err := cl.CreateTable(ctx, client.TableSpec{Name: "items", Columns: itemColumns, Key: []string{"id"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateCluster(ctx, "c", "r1", "r2"); err != nil {
		t.Fatal(err)
	}
	all := client.Get("items").Filter(client.Compare(messages.BinaryOp_BINARY_OP_GE, client.Col("amount"), client.Lit(int64(0))))
	if _, err := cl.CreateView(ctx, "items_v", all); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateIndex(ctx, "items_idx", "items_v", []string{"id"}, "c"); err != nil {
		t.Fatal(err)
	}
	insert(t, ctx, cl, o, 0, n)
}

// nodeByName finds a node of the test cluster by its name.
func nodeByName(c *multinode.Cluster, name string) *multinode.Node {
	for _, n := range c.Nodes() {
		if n.Name() == name {
			return n
		}
	}
	return nil
}

// peekStats counts the peeks of peekDuring.
type peekStats struct {
	ok, failed, wrong int64
	slowest           time.Duration
}

func (s peekStats) String() string {
	return fmt.Sprintf("%d ok, %d failed with an error, %d wrong, slowest %s", s.ok, s.failed, s.wrong, s.slowest.Round(time.Millisecond))
}

// peekDuring peeks name every 20ms on a goroutine until the returned
// function is called, which returns the counts. Each peek must answer
// want or fail with an error within peekTimeout (plus a second of
// slack); a wrong answer or a peek past that fails the test.
func peekDuring(t testing.TB, ctx context.Context, cl *client.Client, name, want string) func() peekStats {
	t.Helper()
	var ok, failed, wrong, slowest atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			got, err := peekRows(ctx, cl, name)
			if d := int64(time.Since(start)); d > slowest.Load() {
				slowest.Store(d)
			}
			switch {
			case err != nil:
				failed.Add(1)
				t.Logf("peek %s failed: %v", name, err)
			case got != want:
				wrong.Add(1)
				t.Errorf("peek %s answered wrong rows:\n%s\nwant:\n%s", name, got, want)
			default:
				ok.Add(1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() peekStats {
		close(stop)
		wg.Wait()
		s := peekStats{ok: ok.Load(), failed: failed.Load(), wrong: wrong.Load(), slowest: time.Duration(slowest.Load())}
		if s.slowest > peekTimeout+time.Second {
			t.Errorf("a peek of %s took %s, past its timeout %s", name, s.slowest, peekTimeout)
		}
		return s
	}
}

// victimOf picks the replica of c to lose: one on a compute-only node
// (not n1, which runs the environment). It returns its name, the node it
// runs on and the other replica's name.
func victimOf(t testing.TB, c *multinode.Cluster, rs map[string]client.ReplicaPlacement) (string, *multinode.Node, string) {
	t.Helper()
	victim, other := "r1", "r2"
	if rs[victim].Node == "n1" {
		victim, other = "r2", "r1"
	}
	n := nodeByName(c, rs[victim].Node)
	if n == nil || n.Name() == "n1" {
		t.Fatalf("no replica of c on a compute-only node: %+v", rs)
	}
	return victim, n, other
}

// replacedOn: the replica has a newer incarnation than before, hydrated,
// on a node other than lost.
func replacedOn(cluster, replica string, before uint64, lost string) func(client.NodesView) bool {
	return func(v client.NodesView) bool {
		r := replicasOf(v, cluster)[replica]
		return r.Incarnation > before && r.Hydrated && r.Node != "" && r.Node != lost
	}
}

// metricValue sums the samples of a metric in a node's /metrics whose
// line contains every one of labels.
func metricValue(n *multinode.Node, metric string, labels ...string) float64 {
	var sum float64
	for _, line := range strings.Split(n.Metrics(), "\n") {
		if !strings.HasPrefix(line, metric) {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(line, l)
		}
		if !match {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v); err == nil {
			sum += v
		}
	}
	return sum
}

// waitMetric waits until cond holds for the metric's value on n, at most
// timeout, and fails the test with the last value otherwise.
func waitMetric(t testing.TB, n *multinode.Node, timeout time.Duration, what string, cond func(float64) bool, metric string, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var v float64
	for time.Now().Before(deadline) {
		if v = metricValue(n, metric, labels...); cond(v) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s on %s is %v after %s", what, metric, n.Name(), v, timeout)
}
