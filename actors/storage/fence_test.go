package storage_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

var (
	tokenA = durable.FenceToken{DeployGeneration: 1, Epoch: 1}
	tokenB = durable.FenceToken{DeployGeneration: 2, Epoch: 2}
)

// halts records what OnFenced was called with.
type halts struct {
	mu      sync.Mutex
	reasons []string
}

func (h *halts) record(r string) { h.mu.Lock(); h.reasons = append(h.reasons, r); h.mu.Unlock() }

func (h *halts) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reasons)
}

// promote sends Promote and waits for its answer.
func (h *harness) promote(tok durable.FenceToken) error {
	h.t.Helper()
	res, err := h.sys.Root.RequestFuture(h.pid, &storage.Promote{Token: tok}, timeout).Result()
	if err != nil {
		h.t.Fatalf("promote: %v", err)
	}
	return res.(*storage.PromoteResult).Err
}

// shardRows reads a table's shard directly (not through an actor), at its
// latest complete time, as "row×diff" strings.
func shardRows(t *testing.T, store persistence.Store, id timely.GlobalId) []string {
	t.Helper()
	ctx := context.Background()
	s, err := store.OpenShard(ctx, storage.ShardName(id))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	upper, err := s.Upper(ctx)
	if err != nil {
		t.Fatal(err)
	}
	latest, ok := upper.StepBack()
	if !ok {
		return nil
	}
	at, _ := latest.Time()
	ups, err := s.Snapshot(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range ups {
		row, err := dataflow.DecodeRowKey(u.Key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row.String()+"x"+itoa(u.Diff))
	}
	slices.Sort(out)
	return out
}

// TestOldWriterFencedAfterPromotion: A writes as generation 1; B opens the
// same store read-only, then is promoted with generation 2's token. A's
// next write fails with a fence error naming both tokens, nothing of it
// reaches any shard, A tells its node once, and B writes on.
func TestOldWriterFencedAfterPromotion(t *testing.T) {
	store := mem.New()
	t.Cleanup(func() { _ = store.Close() })
	var haltsA halts
	tokA := tokenA
	a := newHarness(t, storage.Config{Store: store, Fence: &tokA, OnFenced: haltsA.record})
	a.createTable(u1, accounts)
	a.createTable(u2, accounts)
	a.mustWrite(write(rows(u1, row(i64(1), str("a")))))

	b := newHarness(t, storage.Config{Store: store, ReadOnly: true})
	if got := tableRows(t, b.snapshot(nil, u1), u1); !slices.Equal(got, []string{`(1, "a")x1`}) {
		t.Fatalf("read-only B sees %v", got)
	}
	// A keeps writing while B is read-only: one table, then two.
	a.mustWrite(write(rows(u1, row(i64(2), str("b")))))
	a.mustWrite(write(rows(u1, row(i64(3), str("c"))), rows(u2, row(i64(9), str("z")))))

	if err := b.promote(tokenB); err != nil {
		t.Fatalf("promote B: %v", err)
	}
	want1 := []string{`(1, "a")x1`, `(2, "b")x1`, `(3, "c")x1`}
	if got := tableRows(t, b.snapshot(nil, u1), u1); !slices.Equal(got, want1) {
		t.Fatalf("promoted B sees %v, want %v", got, want1)
	}

	// A's write after the promotion: fenced, nothing written.
	for _, w := range []*messages.StorageWrite{
		write(rows(u1, row(i64(4), str("late")))),
		write(rows(u1, row(i64(5), str("late"))), rows(u2, row(i64(6), str("late")))),
	} {
		r := a.write(w)
		err := messages.ErrorFromWire(r.Error)
		if !errors.Is(err, storage.ErrFenced) || !errors.Is(err, messages.ErrFenced) {
			t.Fatalf("A's write after promotion: %v, want FENCED", err)
		}
		if msg := err.Error(); !strings.Contains(msg, tokenA.String()) || !strings.Contains(msg, tokenB.String()) {
			t.Fatalf("fence error %q does not name both tokens", msg)
		}
	}
	if got := shardRows(t, store, u1); !slices.Equal(got, want1) {
		t.Fatalf("table u1's shard holds %v after A's fenced writes, want %v", got, want1)
	}
	if got := shardRows(t, store, u2); !slices.Equal(got, []string{`(9, "z")x1`}) {
		t.Fatalf("table u2's shard holds %v after A's fenced writes", got)
	}
	// Table changes and collection appends are refused too.
	if r := ask[*messages.StorageCreateTableResponse](a, &messages.StorageCreateTable{Table: messages.FromGlobalId(u3), Schema: dataflow.SchemaToWire(accounts)}); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrFenced) {
		t.Fatalf("A's create table after the fence: %v", r.Error)
	}
	if hs := haltsA.get(); len(hs) != 1 || !strings.Contains(hs[0], tokenB.String()) {
		t.Fatalf("A's OnFenced calls: %q, want one naming %s", hs, tokenB)
	}

	// B writes on, and a restarted A (same token) cannot open.
	b.mustWrite(write(rows(u1, row(i64(7), str("b7")))))
	a.stop()
	a.start2(t)
	if r := ask[*messages.StorageFrontiersResponse](a, &messages.StorageFrontiers{}); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrFenced) {
		t.Fatalf("A reopened after the fence answers frontiers with %v, want FENCED", r.Error)
	}
	if r := a.snapshot(nil, u1); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrFenced) {
		t.Fatalf("A reopened after the fence answers a snapshot with %v, want FENCED", r.Error)
	}
	if got := tableRows(t, b.snapshot(nil, u1), u1); len(got) != 4 {
		t.Fatalf("B sees %v after its own write", got)
	}
}

// start2 spawns the harness's actor again without waiting for a healthy
// answer (a fenced actor answers frontiers with an error).
func (h *harness) start2(t *testing.T) {
	t.Helper()
	props, err := storage.New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.pid = h.sys.Root.Spawn(props)
	pid := h.pid
	t.Cleanup(func() { _ = h.sys.Root.StopFuture(pid).Wait() })
}

// TestReadOnlyRefusesEveryWrite: each kind of write to a read-only actor
// is answered UNAVAILABLE (ErrReadOnly) and nothing reaches the store.
func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	store := mem.New()
	t.Cleanup(func() { _ = store.Close() })
	w := newHarness(t, storage.Config{Store: store})
	w.createTable(u1, accounts)
	w.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	w.stop()

	ro := newHarness(t, storage.Config{Store: store, ReadOnly: true})
	upper := ro.upper()
	checks := []struct {
		name string
		err  func() *messages.Error
	}{
		{"write", func() *messages.Error { return ro.write(write(rows(u1, row(i64(2), str("b"))))).Error }},
		{"create table", func() *messages.Error {
			return ask[*messages.StorageCreateTableResponse](ro, &messages.StorageCreateTable{Table: messages.FromGlobalId(u2), Schema: dataflow.SchemaToWire(accounts)}).Error
		}},
		{"drop table", func() *messages.Error {
			return ask[*messages.StorageDropTableResponse](ro, &messages.StorageDropTable{Table: messages.FromGlobalId(u1)}).Error
		}},
		{"create collection", func() *messages.Error {
			return ask[*messages.StorageCreateCollectionResponse](ro, &messages.StorageCreateCollection{Collection: messages.FromGlobalId(u3), Schema: dataflow.SchemaToWire(accounts)}).Error
		}},
		{"append", func() *messages.Error {
			return ask[*messages.StorageAppendResponse](ro, &messages.StorageAppend{Collection: messages.FromGlobalId(u1), ExpectedUpper: 0, NewUpper: 1 << 40}).Error
		}},
	}
	for _, c := range checks {
		err := messages.ErrorFromWire(c.err())
		if !errors.Is(err, storage.ErrReadOnly) || !errors.Is(err, messages.ErrUnavailable) {
			t.Errorf("%s on a read-only actor: %v, want UNAVAILABLE read-only", c.name, err)
		}
	}
	if got := shardRows(t, store, u1); !slices.Equal(got, []string{`(1, "a")x1`}) {
		t.Fatalf("table u1 holds %v after refused writes", got)
	}
	if got := ro.upper(); got != upper {
		t.Fatalf("read-only upper moved from %s to %s", upper, got)
	}
}

// TestPromotionReplaysToSubscriptions: a subscription opened on the
// read-only actor gets, at promotion, every version the old writer wrote
// since, then progress; later writes follow live.
func TestPromotionReplaysToSubscriptions(t *testing.T) {
	store := mem.New()
	t.Cleanup(func() { _ = store.Close() })
	tokA := tokenA
	a := newHarness(t, storage.Config{Store: store, Fence: &tokA})
	a.createTable(u1, accounts)
	a.mustWrite(write(rows(u1, row(i64(1), str("a")))))

	b := newHarness(t, storage.Config{Store: store, ReadOnly: true})
	from, _ := b.upper().Time()
	consumer := testkit.NewProbe(t, b.sys)
	if r := subscribe(b, consumer, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(from - 1), Snapshot: true}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if _, got := expectBatch(t, consumer, "s"); !strings.Contains(got, `(1, "a")`) {
		t.Fatalf("snapshot batch %s", got)
	}
	expectProgress(t, consumer, "s")
	tsA := a.mustWrite(write(rows(u1, row(i64(2), str("b")))))

	if err := b.promote(tokenB); err != nil {
		t.Fatal(err)
	}
	ts, got := expectBatch(t, consumer, "s")
	if ts != tsA || !strings.Contains(got, `(2, "b")`) {
		t.Fatalf("replayed batch at %d: %s, want A's write at %d", ts, got, tsA)
	}
	expectProgress(t, consumer, "s")
	tsB := b.mustWrite(write(rows(u1, row(i64(3), str("c")))))
	if ts, got := expectBatch(t, consumer, "s"); ts != tsB || !strings.Contains(got, `(3, "c")`) {
		t.Fatalf("live batch at %d: %s", ts, got)
	}
}

// TestOpenWithAnOlderTokenIsFenced: a writer whose token is older than the
// one in the commit log serves nothing and tells its node.
func TestOpenWithAnOlderTokenIsFenced(t *testing.T) {
	store := mem.New()
	t.Cleanup(func() { _ = store.Close() })
	tokB := tokenB
	b := newHarness(t, storage.Config{Store: store, Fence: &tokB})
	b.createTable(u1, accounts)
	b.stop()

	var hs halts
	tokA := tokenA
	a := &harness{t: t, sys: b.sys, clk: b.clk, store: store, reg: b.reg, probe: b.probe}
	a.cfg = storage.Config{Store: store, Fence: &tokA, OnFenced: hs.record, Clock: b.clk, Logger: testkit.QuietLogger()}
	a.start2(t)
	r := ask[*messages.StorageWriteResponse](a, write(rows(u1, row(i64(1), str("x")))))
	if err := messages.ErrorFromWire(r.Error); !errors.Is(err, storage.ErrFenced) {
		t.Fatalf("write to a writer opened with an older token: %v, want FENCED", err)
	}
	if got := hs.get(); len(got) != 1 || !strings.Contains(got[0], tokenA.String()) || !strings.Contains(got[0], tokenB.String()) {
		t.Fatalf("OnFenced calls %q", got)
	}
	if got := shardRows(t, store, u1); len(got) != 0 {
		t.Fatalf("table u1 holds %v", got)
	}
}

// TestPromoteBadInput: promoting a writable actor is refused; promoting a
// promoted one with its own token again is a no-op.
func TestPromoteBadInput(t *testing.T) {
	w := newHarness(t, storage.Config{})
	if err := w.promote(tokenB); !errors.Is(err, storage.ErrMalformed) {
		t.Fatalf("promote a writable actor: %v, want MALFORMED", err)
	}
	ro := newHarness(t, storage.Config{ReadOnly: true})
	if err := ro.promote(tokenB); err != nil {
		t.Fatal(err)
	}
	if err := ro.promote(tokenB); err != nil {
		t.Fatalf("second promote with the same token: %v", err)
	}
	if err := ro.promote(tokenA); !errors.Is(err, storage.ErrMalformed) {
		t.Fatalf("promote with another token: %v, want MALFORMED", err)
	}
}

// TestReadOnlyFollowsTheWriter: on each maintenance tick a read-only actor
// reads what the writer committed since and sends it to its
// subscriptions, then progress; its upper and reads follow.
func TestReadOnlyFollowsTheWriter(t *testing.T) {
	store := mem.New()
	t.Cleanup(func() { _ = store.Close() })
	tokA := tokenA
	a := newHarness(t, storage.Config{Store: store, Fence: &tokA})
	a.createTable(u1, accounts)
	a.createTable(u2, accounts)
	a.mustWrite(write(rows(u1, row(i64(1), str("a")))))

	b := newHarness(t, storage.Config{Store: store, ReadOnly: true})
	from, _ := b.upper().Time()
	consumer := testkit.NewProbe(t, b.sys)
	if r := subscribe(b, consumer, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(from)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	expectProgress(t, consumer, "s")
	a.clk.Advance(time.Millisecond)
	ts1 := a.mustWrite(write(rows(u1, row(i64(2), str("b")))))
	a.clk.Advance(time.Millisecond)
	ts2 := a.mustWrite(write(rows(u1, row(i64(3), str("c"))), rows(u2, row(i64(4), str("d")))))

	b.clk.Advance(storage.DefaultMaintenance)
	if ts, got := expectBatch(t, consumer, "s"); ts != ts1 || !strings.Contains(got, `(2, "b")`) {
		t.Fatalf("first followed batch at %d: %s, want A's write at %d", ts, got, ts1)
	}
	expectProgress(t, consumer, "s")
	if ts, got := expectBatch(t, consumer, "s"); ts != ts2 || !strings.Contains(got, `(3, "c")`) || !strings.Contains(got, `(4, "d")`) {
		t.Fatalf("second followed batch at %d: %s, want A's write at %d", ts, got, ts2)
	}
	if p := expectProgress(t, consumer, "s"); p != timely.At(ts2+1) {
		t.Fatalf("progress %s, want %d", p, ts2+1)
	}
	if got := b.upper(); got != timely.At(ts2+1) {
		t.Fatalf("read-only upper %s, want %d", got, ts2+1)
	}
	if got := tableRows(t, b.snapshot(nil, u1), u1); len(got) != 3 {
		t.Fatalf("read-only snapshot %v", got)
	}
	// Nothing new: a tick sends nothing.
	b.clk.Advance(storage.DefaultMaintenance)
	consumer.ExpectNoMsg(quiet)
}
