//go:build !race

// The node and arborctl's client run in two protoactor remotes in one
// process; see the Makefile for why such tests skip -race.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/testkit"
)

type cli struct {
	t    *testing.T
	addr string
}

// run runs arborctl with args (and stdin) and returns its exit code,
// stdout and stderr.
func (c cli) run(stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, append([]string{"--addr", c.addr}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func (c cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("arborctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func (c cli) fails(code int, want string, args ...string) {
	c.t.Helper()
	c.failsWith("", code, want, args...)
}

func (c cli) failsWith(stdin string, code int, want string, args ...string) {
	c.t.Helper()
	start := time.Now()
	got, _, errOut := c.run(stdin, args...)
	c.t.Logf("arborctl %s: %s", strings.Join(args, " "), time.Since(start))
	if got != code || !strings.Contains(errOut, want) || strings.Count(errOut, "\n") != 1 {
		c.t.Fatalf("arborctl %s: exit %d, stderr %q; want exit %d and one line with %q", strings.Join(args, " "), got, errOut, code, want)
	}
}

func TestArborctl(t *testing.T) {
	dir := t.TempDir()
	sys, _ := testkit.NewRemoteSystem(t)
	node := environmenttest.Start(t, sys, dir, environmenttest.Options{CompactionWindow: 1 << 20})
	c := cli{t: t, addr: sys.Address()}

	out := c.ok("", "create", "table", "orders", "--columns", "id int64 not null, customer string, amount int64", "--key", "id")
	if !strings.Contains(out, "orders") || !strings.Contains(out, "id int64 not null") {
		t.Fatalf("create table printed %q", out)
	}
	rows := filepath.Join(t.TempDir(), "rows.jsonl")
	if err := os.WriteFile(rows, []byte("[1, \"alice\", 30]\n[2, \"bob\", 10]\n\n[3, \"alice\", null]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("", "insert", "orders", "--rows", rows); !strings.Contains(out, "inserted 3 rows") {
		t.Fatalf("insert printed %q", out)
	}
	if out := c.ok("[4, \"carol\", 5]\n", "insert", "orders", "--rows", "-"); !strings.Contains(out, "inserted 1 rows") {
		t.Fatalf("insert from stdin printed %q", out)
	}

	var res struct {
		Columns []struct{ Name string } `json:"columns"`
		Rows    [][]any                 `json:"rows"`
		AsOf    uint64                  `json:"as_of"`
	}
	out = c.ok("", "-o", "json", "peek", "orders", "--where", "customer=alice", "--order-by", "id:desc", "--limit", "5")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("peek json %q: %v", out, err)
	}
	if len(res.Rows) != 2 || res.Rows[0][0] != float64(3) || res.Rows[1][0] != float64(1) || res.Rows[0][2] != nil {
		t.Fatalf("alice's orders: %v", res.Rows)
	}
	out = c.ok("", "peek", "orders", "--columns", "customer,amount", "--order-by", "amount", "--where", "id=2")
	if !strings.Contains(out, "CUSTOMER") || !strings.Contains(out, "bob") || !strings.Contains(out, "(1 rows as of") {
		t.Fatalf("peek table output %q", out)
	}
	if out := c.ok("", "get", "tables"); !strings.Contains(out, "NAME") || !strings.Contains(out, "orders") {
		t.Fatalf("get tables printed %q", out)
	}
	if out := c.ok("", "dump"); !strings.Contains(out, `"ready": true`) {
		t.Fatalf("dump printed %q", out)
	}

	// Errors: one line on stderr, exit 1 from the node, 2 for usage.
	c.fails(1, "already exists", "create", "table", "orders", "--columns", "id int64")
	c.fails(1, `"nope"`, "peek", "nope")
	c.failsWith("[null, \"a\", 1]\n", 1, "invalid row", "insert", "orders", "--rows", "-")
	c.failsWith("[\"x\", \"a\", 1]\n", 1, "not a number", "insert", "orders", "--rows", "-")
	c.failsWith("[1, \"a\"]\n", 1, "2 values", "insert", "orders", "--rows", "-")
	c.fails(1, "compute", "create", "index", "orders_idx", "--on", "orders")
	c.fails(2, "unknown command", "frobnicate")
	c.fails(2, "--columns", "create", "table", "t")
	c.fails(2, "takes 1 argument", "peek")

	// Drop, then restart on the same data: the answers are the same.
	c.ok("", "create", "table", "scratch", "--columns", "x int64")
	if out := c.ok("", "drop", "table", "scratch"); !strings.Contains(out, "dropped") {
		t.Fatalf("drop printed %q", out)
	}
	c.ok("", "drop", "table", "scratch", "--if-exists")
	before := c.ok("", "peek", "orders", "--order-by", "id")
	node.Stop()
	environmenttest.Start(t, sys, dir, environmenttest.Options{CompactionWindow: 1 << 20})
	after := c.ok("", "peek", "orders", "--order-by", "id")
	trim := func(s string) string { return s[:strings.LastIndex(s, "(")] }
	if trim(before) != trim(after) {
		t.Fatalf("after a restart:\n%s\nbefore:\n%s", after, before)
	}
	if out := c.ok("", "-o", "json", "get", "tables"); strings.Contains(out, "scratch") || !strings.Contains(out, `"orders"`) {
		t.Fatalf("tables after restart: %s", out)
	}
}

// The compute commands against a node that runs compute: a view from a
// plan file, an index on it, a materialized view, peeks, get and
// subscribe.
func TestArborctlCompute(t *testing.T) {
	sys, _ := testkit.NewRemoteSystem(t)
	environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{Compute: true, CompactionWindow: 1 << 20})
	c := cli{t: t, addr: sys.Address()}
	c.ok("", "create", "table", "orders", "--columns", "id int64 not null, customer string, amount int64", "--key", "id")
	c.ok("[1, \"alice\", 30]\n[2, \"bob\", 70]\n[3, \"alice\", 90]\n", "insert", "orders", "--rows", "-")

	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"plan": {"filter": {"input": {"get": {"source": {"kind": "ID_KIND_TRANSIENT", "value": "1"}}},
	  "predicates": [{"binary": {"op": "BINARY_OP_GT", "left": {"column": {"name": "amount"}}, "right": {"literal": {"value": {"int64": "50"}}}}}]}},
	  "sources": {"1": "orders"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	perCustomer := filepath.Join(dir, "per_customer.json")
	if err := os.WriteFile(perCustomer, []byte(`{"plan": {"reduce": {"input": {"get": {"source": {"kind": "ID_KIND_TRANSIENT", "value": "1"}}},
	  "group_key": [{"name": "customer"}], "aggregates": [{"func": "AGGREGATE_FUNC_SUM", "column": {"name": "amount"}}]}},
	  "sources": {"1": "orders"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "create", "view", "big_orders", "--plan", big)
	if out := c.ok("", "create", "index", "big_orders_idx", "--on", "big_orders", "--key", "id"); !strings.Contains(out, "default") {
		t.Fatalf("create index printed %q", out)
	}
	c.ok("", "create", "materialized-view", "per_customer", "--plan", perCustomer)
	if out := c.ok("", "peek", "big_orders", "--order-by", "id"); !strings.Contains(out, "bob") || !strings.Contains(out, "(2 rows as of") {
		t.Fatalf("peek big_orders printed %q", out)
	}
	if out := c.ok("", "peek", "per_customer", "--where", "customer=alice"); !strings.Contains(out, "120") {
		t.Fatalf("peek per_customer printed %q", out)
	}
	for kind, want := range map[string]string{"clusters": "default", "replicas": "r1", "views": "big_orders", "indexes": "big_orders_idx", "materialized-views": "per_customer"} {
		if out := c.ok("", "get", kind); !strings.Contains(out, want) {
			t.Fatalf("get %s printed %q", kind, out)
		}
	}
	// get nodes: a node alone lists itself and the replica it runs.
	var nodes struct {
		Members []struct {
			State string `json:"state"`
		} `json:"members"`
		Replicas []struct {
			Replica, Node string
		} `json:"replicas"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "get", "nodes")), &nodes); err != nil || len(nodes.Members) != 1 ||
		nodes.Members[0].State != "up" || len(nodes.Replicas) != 1 || nodes.Replicas[0].Replica != "r1" || nodes.Replicas[0].Node == "" {
		t.Fatalf("get nodes: %+v (%v)", nodes, err)
	}
	out := c.ok("", "-o", "json", "subscribe", "big_orders", "--max-updates", "2")
	if strings.Count(out, `"diff":1`) != 2 || !strings.Contains(out, "bob") {
		t.Fatalf("subscribe printed %q", out)
	}
	c.fails(1, `"nope"`, "create", "index", "i", "--on", "nope")
	c.fails(1, `depends on it`, "drop", "view", "big_orders")
	if out := c.ok("", "drop", "index", "big_orders_idx"); !strings.Contains(out, "dropped") {
		t.Fatalf("drop index printed %q", out)
	}
}
