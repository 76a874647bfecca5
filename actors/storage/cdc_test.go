package storage_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// subscribe subscribes consumer and returns the response.
func subscribe(h *harness, consumer *testkit.Probe, m *messages.StorageSubscribe) *messages.StorageSubscribeResponse {
	h.t.Helper()
	consumer.Send(h.pid, m)
	return testkit.ExpectMsg[*messages.StorageSubscribeResponse](consumer, timeout)
}

// expectBatch takes the next message, a batch, and returns its version and
// changes.
func expectBatch(t *testing.T, p *testkit.Probe, id string) (timely.Timestamp, string) {
	t.Helper()
	b := testkit.ExpectMsg[*messages.StorageCdcBatch](p, timeout)
	if b.SubscriptionId != id {
		t.Fatalf("batch for %q, want %q", b.SubscriptionId, id)
	}
	return timely.Timestamp(b.Batch.Version), fmt.Sprint(changesOf(t, b.Batch.Tables))
}

// expectProgress takes the next message, progress, and returns the upper.
func expectProgress(t *testing.T, p *testkit.Probe, id string) timely.Frontier {
	t.Helper()
	m := testkit.ExpectMsg[*messages.StorageCdcProgress](p, timeout)
	if m.SubscriptionId != id {
		t.Fatalf("progress for %q, want %q", m.SubscriptionId, id)
	}
	f, err := m.Upper.ToTimely()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCdcLiveBatchesThenProgress(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	h.mustWrite(write(rows(u1, row(i64(0), str("before")))))
	upper := h.upper()
	from, _ := upper.Time()

	all := testkit.NewProbe(t, h.sys)
	onlyU1 := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, all, &messages.StorageSubscribe{SubscriptionId: "all", From: uint64(from)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if got := expectProgress(t, all, "all"); got != upper {
		t.Fatalf("first progress %s, want %s", got, upper)
	}
	if r := subscribe(h, onlyU1, &messages.StorageSubscribe{SubscriptionId: "u1", Tables: wireIds([]timely.GlobalId{u1}), From: uint64(from)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	expectProgress(t, onlyU1, "u1")

	ts1 := h.mustWrite(write(rows(u1, row(i64(1), str("a"))), rows(u2, row(i64(2), str("b")))))
	ts2 := h.mustWrite(write(rows(u2, row(i64(3), str("c")))))
	ts3 := h.mustWrite(write(retract(u1, row(i64(1), str("a")))))

	for _, c := range []struct {
		ts   timely.Timestamp
		want string
	}{
		{ts1, `map[u1:map[(1, "a"):1] u2:map[(2, "b"):1]]`},
		{ts2, `map[u2:map[(3, "c"):1]]`},
		{ts3, `map[u1:map[(1, "a"):-1]]`},
	} {
		v, got := expectBatch(t, all, "all")
		if v != c.ts || got != c.want {
			t.Fatalf("batch (%d, %s), want (%d, %s)", v, got, c.ts, c.want)
		}
		if p := expectProgress(t, all, "all"); p != timely.At(c.ts+1) {
			t.Fatalf("progress %s after version %d", p, c.ts)
		}
	}
	// The u1 subscriber sees only u1's changes, and progress for every
	// commit (including the one that did not touch u1).
	if v, got := expectBatch(t, onlyU1, "u1"); v != ts1 || got != `map[u1:map[(1, "a"):1]]` {
		t.Fatalf("u1 batch (%d, %s)", v, got)
	}
	expectProgress(t, onlyU1, "u1")
	if p := expectProgress(t, onlyU1, "u1"); p != timely.At(ts2+1) {
		t.Fatalf("progress %s, want [%d]", p, ts2+1)
	}
	if v, _ := expectBatch(t, onlyU1, "u1"); v != ts3 {
		t.Fatalf("batch at %d, want %d", v, ts3)
	}
	expectProgress(t, onlyU1, "u1")

	// Unsubscribed: nothing more.
	onlyU1.Send(h.pid, &messages.StorageUnsubscribe{SubscriptionId: "u1"})
	if r := testkit.ExpectMsg[*messages.StorageUnsubscribeResponse](onlyU1, timeout); r.Error != nil {
		t.Fatal(r.Error)
	}
	h.mustWrite(write(rows(u1, row(i64(9), str("z")))))
	expectBatch(t, all, "all")
	expectProgress(t, all, "all")
	onlyU1.ExpectNoMsg(quiet)
	if n := counterValue(t, h.reg, "arbor_storage_subscriptions"); n != 1 {
		t.Fatalf("subscriptions gauge %v", n)
	}
}

func TestCdcSubscribeFromThePastReplays(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	var ts []timely.Timestamp
	for i := range 5 {
		ts = append(ts, h.mustWrite(write(rows(u1, row(i64(int64(i)), str("r"))))))
		h.clk.Advance(time.Millisecond) // versions need not be consecutive
	}
	ts = append(ts, h.mustWrite(write(retract(u1, row(i64(0), str("r"))))))

	// From the second version: changes at versions >= ts[1], in order,
	// then progress to the upper, then live batches.
	c := testkit.NewProbe(t, h.sys)
	r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(ts[1])})
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	for i := 1; i < 5; i++ {
		v, got := expectBatch(t, c, "s")
		if want := fmt.Sprintf(`map[u1:map[(%d, "r"):1]]`, i); v != ts[i] || got != want {
			t.Fatalf("replay %d: (%d, %s), want (%d, %s)", i, v, got, ts[i], want)
		}
	}
	if v, got := expectBatch(t, c, "s"); v != ts[5] || got != `map[u1:map[(0, "r"):-1]]` {
		t.Fatalf("replay of the delete: (%d, %s)", v, got)
	}
	if p := expectProgress(t, c, "s"); p != timely.At(ts[5]+1) {
		t.Fatalf("progress after replay %s", p)
	}
	live := h.mustWrite(write(rows(u1, row(i64(100), str("live")))))
	if v, _ := expectBatch(t, c, "s"); v != live {
		t.Fatalf("live batch at %d, want %d", v, live)
	}
	expectProgress(t, c, "s")

	// With a snapshot: the first batch is the contents as of `from`.
	s := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, s, &messages.StorageSubscribe{SubscriptionId: "snap", From: uint64(ts[2]), Snapshot: true}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if v, got := expectBatch(t, s, "snap"); v != ts[2] || got != `map[u1:map[(0, "r"):1 (1, "r"):1 (2, "r"):1]]` {
		t.Fatalf("snapshot batch (%d, %s)", v, got)
	}
	for _, want := range []timely.Timestamp{ts[3], ts[4], ts[5], live} {
		if v, _ := expectBatch(t, s, "snap"); v != want {
			t.Fatalf("batch at %d, want %d", v, want)
		}
	}
	expectProgress(t, s, "snap")

	// A duplicate id is refused.
	if r := subscribe(h, s, &messages.StorageSubscribe{SubscriptionId: "snap"}); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrDuplicateId) {
		t.Fatalf("duplicate subscription: %v", r.Error)
	}
	// A snapshot at a time not yet complete is refused.
	if r := subscribe(h, s, &messages.StorageSubscribe{SubscriptionId: "future", From: uint64(live + 1), Snapshot: true}); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrNotYetReadable) {
		t.Fatalf("snapshot subscription at the upper: %v", r.Error)
	}
}

func TestCdcTableDroppedAndCreated(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	c := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	expectProgress(t, c, "s")
	// A table created later is part of an all-tables subscription.
	h.createTable(u2, accounts)
	ts := h.mustWrite(write(rows(u2, row(i64(1), str("new")))))
	if v, got := expectBatch(t, c, "s"); v != ts || got != `map[u2:map[(1, "new"):1]]` {
		t.Fatalf("batch (%d, %s)", v, got)
	}
	expectProgress(t, c, "s")
	if r := ask[*messages.StorageDropTableResponse](h, &messages.StorageDropTable{Table: messages.FromGlobalId(u2)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	d := testkit.ExpectMsg[*messages.StorageCdcTableDropped](c, timeout)
	if id, _ := d.Table.ToTimely(); id != u2 || d.SubscriptionId != "s" {
		t.Fatalf("dropped notice %v", d)
	}
}

func TestCdcSubscribeBeforeSinceFails(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	first := h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	h.mustWrite(write(rows(u1, row(i64(2), str("b")))))
	h.clk.Advance(storage.DefaultMaintenance) // compacts to the latest time
	testkit.Eventually(t, func() bool { return sinceOf(h, u1) > first }, timeout)
	c := testkit.NewProbe(t, h.sys)
	r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(first)})
	if err := messages.ErrorFromWire(r.Error); !errors.Is(err, storage.ErrCompacted) {
		t.Fatalf("subscribe below since: %v", err)
	}
	// From the since: the contents as of since, at the since.
	since := sinceOf(h, u1)
	if r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(since)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if v, got := expectBatch(t, c, "s"); v != since || got != `map[u1:map[(1, "a"):1 (2, "b"):1]]` {
		t.Fatalf("batch (%d, %s)", v, got)
	}
	expectProgress(t, c, "s")
}

// sinceOf returns table id's since.
func sinceOf(h *harness, id timely.GlobalId) timely.Timestamp {
	h.t.Helper()
	f := h.frontiers(id)
	s, err := f.Tables[0].Since.ToTimely()
	if err != nil {
		h.t.Fatal(err)
	}
	t, _ := s.Time()
	return t
}

// A subscription from a version ahead of the upper gets progress, but no
// batch below its start.
func TestCdcSubscribeFromTheFuture(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	ts := h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	start := ts + 1000
	c := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(start)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	expectProgress(t, c, "s")
	early := h.mustWrite(write(rows(u1, row(i64(2), str("early")))))
	if p := expectProgress(t, c, "s"); p != timely.At(early+1) {
		t.Fatalf("progress %s", p)
	}
	h.clk.Advance(2 * time.Second) // the clock passes the start
	late := h.mustWrite(write(rows(u1, row(i64(3), str("late")))))
	if late < start {
		t.Fatalf("clock did not pass the start: %d < %d", late, start)
	}
	if v, got := expectBatch(t, c, "s"); v != late || got != `map[u1:map[(3, "late"):1]]` {
		t.Fatalf("batch (%d, %s)", v, got)
	}
	expectProgress(t, c, "s")
}
