//go:build !race

// The client and the environment run in two protoactor remotes in one
// process, which the race detector flags inside protoactor (see the
// Makefile); these tests run in the Makefile's second, race-free pass.

package client_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/testkit"
)

const timeout = 10 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startNode starts a node on dir in a remote actor system of its own and
// returns it and its address.
func startNode(t *testing.T, dir string, opts environmenttest.Options) (*environmenttest.Node, string) {
	sys, _ := testkit.NewRemoteSystem(t)
	return environmenttest.Start(t, sys, dir, opts), sys.Address()
}

func dial(t *testing.T, addr string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(ctxT(t), addr, opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var ordersColumns = []client.Column{
	{Name: "id", Type: client.Int64},
	{Name: "customer", Type: client.String, Nullable: true},
	{Name: "amount", Type: client.Int64, Nullable: true},
}

func createOrders(t *testing.T, c *client.Client) {
	t.Helper()
	if _, err := c.CreateTable(ctxT(t), client.TableSpec{Name: "orders", Columns: ordersColumns, Key: []string{"id"}}); err != nil {
		t.Fatalf("create table: %v", err)
	}
}

// oracle is the multiset of rows written to one table, with the
// timestamp of each write.
type oracle struct {
	writes []oracleWrite
}

type oracleWrite struct {
	ts      uint64
	inserts []client.Row
	deletes []client.Row
}

// at returns the rows visible at time t, in row order.
func (o *oracle) at(t uint64) []string {
	count := map[string]int{}
	for _, w := range o.writes {
		if w.ts > t {
			continue
		}
		for _, r := range w.inserts {
			count[key(r)]++
		}
		for _, r := range w.deletes {
			count[key(r)]--
		}
	}
	var out []string
	for k, n := range count {
		for range n {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (o *oracle) latest() []string { return o.at(^uint64(0)) }

func key(r client.Row) string { return fmt.Sprint([]any(r)) }

func keys(rows []client.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = key(r)
	}
	return out
}

func sortedKeys(rows []client.Row) []string {
	out := keys(rows)
	sort.Strings(out)
	return out
}

func requireRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got  %d rows %s\n want %d rows %s", what, len(got), strings.Join(got, " "), len(want), strings.Join(want, " "))
	}
}

// fmtSscan reads the number of an id such as "u7".
func fmtSscan(id string, v *uint64) (int, error) { return fmt.Sscanf(id, "u%d", v) }
