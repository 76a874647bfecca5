//go:build !race

package client_test

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
)

func orderRow(id int64, customer string, amount int64) client.Row {
	return client.Row{id, customer, amount}
}

// A client creates a table, writes, peeks with filters against an oracle,
// and after a restart of everything on the same data dir sees the same
// answers.
func TestTablesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	node, addr := startNode(t, dir, environmenttest.Options{CompactionWindow: 1 << 20})
	c := dial(t, addr, client.WithApplicationName("e2e"))
	ctx := ctxT(t)
	createOrders(t, c)

	customers := []string{"alice", "bob", "carol"}
	var o oracle
	id := int64(0)
	for batch := 0; batch < 3; batch++ {
		var rows []client.Row
		for i := 0; i < 20; i++ {
			id++
			rows = append(rows, orderRow(id, customers[int(id)%3], id*7%50))
		}
		w := client.TableWrite{Table: "orders", Inserts: rows}
		if batch == 2 {
			w.Deletes = []client.Row{orderRow(1, "bob", 7), orderRow(2, "carol", 14)}
		}
		ts, err := c.Write(ctx, w)
		if err != nil {
			t.Fatalf("write %d: %v", batch, err)
		}
		o.writes = append(o.writes, oracleWrite{ts: ts, inserts: w.Inserts, deletes: w.Deletes})
	}

	check := func(c *client.Client) {
		t.Helper()
		all, err := c.Peek(ctx, "orders")
		if err != nil {
			t.Fatalf("peek: %v", err)
		}
		requireRows(t, "peek orders", sortedKeys(all.Rows), o.latest())
		if len(all.Columns) != 3 || all.Columns[0].Name != "id" || all.Columns[0].Type != client.Int64 {
			t.Fatalf("columns %v", all.Columns)
		}

		// Filter, order and limit, against the oracle.
		res, err := c.Peek(ctx, "orders", client.Where("customer", "alice"), client.OrderBy("amount", true), client.OrderBy("id", false), client.Limit(5))
		if err != nil {
			t.Fatalf("peek alice: %v", err)
		}
		var want []client.Row
		for _, r := range all.Rows {
			if r[1] == "alice" {
				want = append(want, r)
			}
		}
		sort.SliceStable(want, func(i, j int) bool {
			if want[i][2].(int64) != want[j][2].(int64) {
				return want[i][2].(int64) > want[j][2].(int64)
			}
			return want[i][0].(int64) < want[j][0].(int64)
		})
		requireRows(t, "alice's 5 biggest orders", keys(res.Rows), keys(want[:5]))

		// Projection and offset.
		res, err = c.Peek(ctx, "orders", client.Columns("amount", "id"), client.OrderBy("id", false), client.Offset(10), client.Limit(3))
		if err != nil {
			t.Fatalf("peek projected: %v", err)
		}
		if len(res.Rows) != 3 || len(res.Columns) != 2 || res.Columns[0].Name != "amount" {
			t.Fatalf("projected peek: %v %v", res.Columns, res.Rows)
		}
		// Reading an older time sees the first write only.
		res, err = c.Peek(ctx, "orders", client.AsOf(o.writes[0].ts))
		if err != nil {
			t.Fatalf("peek as of the first write: %v", err)
		}
		requireRows(t, "as of the first write", sortedKeys(res.Rows), o.at(o.writes[0].ts))
		if res.AsOf != o.writes[0].ts {
			t.Fatalf("as of %d, want %d", res.AsOf, o.writes[0].ts)
		}
		tables, err := c.List(ctx, client.Table)
		if err != nil || len(tables) != 1 || tables[0].Name != "orders" || !slices.Equal(tables[0].KeyColumns, []string{"id"}) {
			t.Fatalf("list tables: %v %v", tables, err)
		}
	}
	check(c)

	// Restart everything on the same data dir.
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	node.Stop()
	environmenttest.Start(t, node.Sys, dir, environmenttest.Options{CompactionWindow: 1 << 20})
	c = dial(t, addr)
	check(c)
	ts, err := c.Insert(ctx, "orders", orderRow(1000, "dave", 1))
	if err != nil {
		t.Fatalf("insert after restart: %v", err)
	}
	if ts <= o.writes[len(o.writes)-1].ts {
		t.Fatalf("timestamp %d after restart is not after %d", ts, o.writes[len(o.writes)-1].ts)
	}
	o.writes = append(o.writes, oracleWrite{ts: ts, inserts: []client.Row{orderRow(1000, "dave", 1)}})
	res, err := c.Peek(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	requireRows(t, "after restart and insert", sortedKeys(res.Rows), o.latest())
}

// Bad input gets a typed error naming the problem, nothing is half
// applied, and the environment keeps serving.
func TestBadInput(t *testing.T) {
	_, addr := startNode(t, t.TempDir(), environmenttest.Options{CompactionWindow: 1 << 20})
	c := dial(t, addr)
	ctx := ctxT(t)
	createOrders(t, c)
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "refunds", Columns: ordersColumns}); err != nil {
		t.Fatal(err)
	}
	expect := func(what string, err, sentinel error, words ...string) {
		t.Helper()
		if !errors.Is(err, sentinel) {
			t.Fatalf("%s: got %v, want %v", what, err, sentinel)
		}
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%s: error %q does not mention %q", what, err, w)
			}
		}
	}

	_, err := c.Peek(ctx, "nope")
	expect("peek unknown", err, client.ErrNotFound, `"nope"`)
	_, err = c.Insert(ctx, "nope", orderRow(1, "a", 1))
	expect("insert unknown", err, client.ErrNotFound, `"nope"`)
	expect("drop unknown", c.DropTable(ctx, "nope"), client.ErrNotFound, `"nope"`)
	if dropped, err := c.Drop(ctx, client.Table, "nope", true); err != nil || dropped {
		t.Fatalf("drop if exists: %v %v", dropped, err)
	}

	_, err = c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: ordersColumns})
	expect("duplicate", err, client.ErrAlreadyExists, `"orders"`)
	if _, err := c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: ordersColumns, IfNotExists: true}); err != nil {
		t.Fatalf("if not exists: %v", err)
	}
	_, err = c.CreateTable(ctx, client.TableSpec{Name: "t", Columns: ordersColumns, Key: []string{"nope"}})
	expect("bad key", err, client.ErrInvalidArgument, `"nope"`)
	_, err = c.CreateTable(ctx, client.TableSpec{Name: "t"})
	expect("no columns", err, client.ErrInvalidArgument, "column")
	_, err = c.CreateTable(ctx, client.TableSpec{Name: "t", Columns: []client.Column{{Name: "a", Type: client.Int64}, {Name: "a", Type: client.String}}})
	expect("duplicate column", err, client.ErrInvalidArgument, `"a"`)

	// Rows that do not fit: nothing of the write lands, in either table.
	_, err = c.Write(ctx, client.TableWrite{Table: "refunds", Inserts: []client.Row{orderRow(1, "a", 1)}},
		client.TableWrite{Table: "orders", Inserts: []client.Row{orderRow(2, "b", 2), {"x", "c", int64(3)}}})
	expect("string in an int64 column", err, client.ErrInvalidRow, `"orders"`, "insert 1", `"id"`)
	expect("an invalid row is an invalid argument", err, client.ErrInvalidArgument)
	_, err = c.Insert(ctx, "orders", client.Row{nil, "a", int64(1)})
	expect("null in a not null column", err, client.ErrInvalidRow, `"id"`)
	_, err = c.Insert(ctx, "orders", client.Row{int64(1)})
	expect("short row", err, client.ErrInvalidRow, "columns")
	for _, table := range []string{"orders", "refunds"} {
		if res, err := c.Peek(ctx, table); err != nil || len(res.Rows) != 0 {
			t.Fatalf("%s after rejected writes: %v %v", table, res, err)
		}
	}

	_, err = c.Peek(ctx, "orders", client.Where("nope", int64(1)))
	expect("filter on an unknown column", err, client.ErrInvalidArgument, `"nope"`)
	_, err = c.Peek(ctx, "orders", client.Where("id", "one"))
	expect("filter of the wrong type", err, client.ErrInvalidArgument)

	// Views, indexes and the rest of compute: UNAVAILABLE, naming the
	// operation.
	_, err = c.CreateView(ctx, "big", client.Get("orders"))
	expect("create view", err, client.ErrUnavailable, `create view "big"`, "compute controller")
	_, err = c.CreateIndex(ctx, "orders_idx", "orders", []string{"id"}, "")
	expect("create index", err, client.ErrUnavailable, `create index "orders_idx"`)
	_, err = c.CreateMaterializedView(ctx, "mv", client.Get("orders"), "default")
	expect("create materialized view", err, client.ErrUnavailable, "materialized view")
	_, err = c.CreateCluster(ctx, "c1", "r1")
	expect("create cluster", err, client.ErrUnavailable, "cluster")
	_, err = c.Drop(ctx, client.View, "big", false)
	expect("drop view", err, client.ErrUnavailable, "drop view")
	_, err = c.Subscribe(ctx, "orders")
	expect("subscribe", err, client.ErrUnavailable, "subscribe")

	// The environment still serves.
	if _, err := c.Insert(ctx, "orders", orderRow(1, "a", 1)); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Peek(ctx, "orders"); err != nil || len(res.Rows) != 1 {
		t.Fatalf("peek after bad input: %v %v", res, err)
	}
}

// Requests over the size limit fail before anything is written, whether the
// client or the environment catches them.
func TestOversizedRequests(t *testing.T) {
	_, addr := startNode(t, t.TempDir(), environmenttest.Options{Env: func(cfg *environment.Config) {
		cfg.MaxRequestBytes = 64 << 10
	}})
	c := dial(t, addr)
	ctx := ctxT(t)
	createOrders(t, c)
	big := strings.Repeat("x", 100<<10)
	_, err := c.Insert(ctx, "orders", orderRow(1, big, 1))
	if !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("oversized write: %v", err)
	}
	small := dial(t, addr, client.WithMaxRequestBytes(1<<10))
	_, err = small.Insert(ctx, "orders", orderRow(2, strings.Repeat("y", 2<<10), 1))
	if !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("write over the client's limit: %v", err)
	}
	if res, err := c.Peek(ctx, "orders"); err != nil || len(res.Rows) != 0 {
		t.Fatalf("after oversized writes: %v %v", res, err)
	}
}
