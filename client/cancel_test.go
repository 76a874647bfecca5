//go:build !race

package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/testkit"
)

type envDump struct {
	PendingPeeks int `json:"pending_peeks"`
	Sessions     []struct {
		Conn uint32 `json:"conn"`
	} `json:"sessions"`
}

func dump(t *testing.T, c *client.Client) envDump {
	t.Helper()
	b, err := c.Dump(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var d envDump
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// A client that goes away has its pending peeks canceled, here and in the
// query tracker (CancelConn); one that cancels keeps its session.
func TestDisconnectCancelsPendingPeeks(t *testing.T) {
	node, addr := startNode(t, t.TempDir(), environmenttest.Options{HoldSnapshots: true})
	admin := dial(t, addr)
	createOrders(t, admin)

	// Cancel: the peek ends canceled, the session stays.
	c := dial(t, addr)
	done := make(chan error, 1)
	go func() { _, err := c.Peek(ctxT(t), "orders"); done <- err }()
	testkit.Eventually(t, func() bool { return dump(t, admin).PendingPeeks == 1 }, timeout, "the peek is pending")
	if err := c.Cancel(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, client.ErrCanceled) {
		t.Fatalf("canceled peek: %v", err)
	}
	if len(dump(t, admin).Sessions) != 2 {
		t.Fatalf("sessions after cancel: %+v", dump(t, admin))
	}

	// Disconnect: the session ends and its peek is canceled.
	go func() { _, err := c.Peek(ctxT(t), "orders"); done <- err }()
	testkit.Eventually(t, func() bool { return dump(t, admin).PendingPeeks == 1 }, timeout, "the peek is pending")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, client.ErrCanceled) && !errors.Is(err, client.ErrClosed) {
		t.Fatalf("peek of a closed client: %v", err)
	}
	d := dump(t, admin)
	if d.PendingPeeks != 0 || len(d.Sessions) != 1 {
		t.Fatalf("after the disconnect: %+v", d)
	}
	testkit.Eventually(t, func() bool { return node.Effects.Canceled(querytracker.ReasonConnection) == 2 }, timeout,
		"the tracker canceled both peeks for their connection")
	if _, err := c.Peek(ctxT(t), "orders"); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("peek after close: %v", err)
	}
}

// A peek at a time storage has compacted away is ErrCompacted, naming the
// time.
func TestPeekCompacted(t *testing.T) {
	_, addr := startNode(t, t.TempDir(), environmenttest.Options{CompactionWindow: 0})
	c := dial(t, addr)
	ctx := ctxT(t)
	createOrders(t, c)
	first, err := c.Insert(ctx, "orders", orderRow(1, "a", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Insert(ctx, "orders", orderRow(2, "b", 2)); err != nil {
		t.Fatal(err)
	}
	var last error
	testkit.Eventually(t, func() bool {
		_, last = c.Peek(ctx, "orders", client.AsOf(first))
		return errors.Is(last, client.ErrCompacted)
	}, timeout, "storage compacts the first write away")
	for _, want := range []string{fmt.Sprintf("as of %d", first), "since"} {
		if !contains(last.Error(), want) {
			t.Fatalf("compacted error %q does not say %q", last, want)
		}
	}
	if res, err := c.Peek(ctx, "orders"); err != nil || len(res.Rows) != 2 {
		t.Fatalf("latest peek: %v %v", res, err)
	}
}

// A statement timeout set on the session ends a peek that runs too long.
func TestStatementTimeout(t *testing.T) {
	_, addr := startNode(t, t.TempDir(), environmenttest.Options{HoldSnapshots: true})
	c := dial(t, addr, client.WithStatementTimeout(50*time.Millisecond))
	createOrders(t, c)
	_, err := c.Peek(ctxT(t), "orders")
	if !errors.Is(err, client.ErrTimeout) || !contains(err.Error(), "statement timeout") {
		t.Fatalf("peek past its statement timeout: %v", err)
	}
	if d, err := c.SetStatementTimeout(ctxT(t), 0); err != nil || d <= time.Second {
		t.Fatalf("restore the default timeout: %v %v", d, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
