package storage_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// frozenStore is a backend that stops answering: while frozen, every call
// on it or on a shard it opened blocks until the call's context ends (and
// returns the context's error, like a SIGSTOPped etcd) or the store is
// thawed (and goes on to the wrapped store).
type frozenStore struct {
	persistence.Store
	mu sync.Mutex
	// thawed closes when the store thaws; nil while not frozen.
	thawed chan struct{}
	// only, when set, is the one call that blocks while frozen.
	only string
	// blocked receives "<call> <shard>" as each call starts to wait (when
	// there is room).
	blocked chan string
}

func newFrozenStore() *frozenStore {
	return &frozenStore{Store: mem.New(), blocked: make(chan string, 64)}
}

// freeze makes every later call block; it forgets the calls that blocked
// before.
func (f *frozenStore) freeze() { f.freezeOnly("") }

// freezeOnly makes every later call named call block (every call when
// empty).
func (f *frozenStore) freezeOnly(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.only = call
	if f.thawed == nil {
		f.thawed = make(chan struct{})
	}
	for len(f.blocked) > 0 {
		<-f.blocked
	}
}

// thaw lets the blocked calls and every later one through.
func (f *frozenStore) thaw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thawed != nil {
		close(f.thawed)
		f.thawed = nil
	}
}

// wait blocks, while the store is frozen, until ctx ends or it thaws.
func (f *frozenStore) wait(ctx context.Context, call, shard string) error {
	f.mu.Lock()
	thawed, only := f.thawed, f.only
	f.mu.Unlock()
	if thawed == nil || (only != "" && only != call) {
		return nil
	}
	select {
	case f.blocked <- call + " " + shard:
	default:
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-thawed:
		return nil
	}
}

// waitBlocked waits (bounded) until a call whose description contains
// what is blocked in the frozen store.
func (f *frozenStore) waitBlocked(t *testing.T, what string) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case got := <-f.blocked:
			if strings.Contains(got, what) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s call blocked in the frozen store", what)
		}
	}
}

func (f *frozenStore) OpenShard(ctx context.Context, name string) (persistence.Shard, error) {
	if err := f.wait(ctx, "OpenShard", name); err != nil {
		return nil, err
	}
	s, err := f.Store.OpenShard(ctx, name)
	if err != nil {
		return nil, err
	}
	return &frozenShard{Shard: s, store: f, name: name}, nil
}

type frozenShard struct {
	persistence.Shard
	store *frozenStore
	name  string
}

func (f *frozenShard) CompareAndAppend(ctx context.Context, ups []persistence.Update, expected, next timely.Frontier) error {
	if err := f.store.wait(ctx, "CompareAndAppend", f.name); err != nil {
		return err
	}
	return f.Shard.CompareAndAppend(ctx, ups, expected, next)
}

func (f *frozenShard) Snapshot(ctx context.Context, asOf timely.Timestamp) ([]persistence.Update, error) {
	if err := f.store.wait(ctx, "Snapshot", f.name); err != nil {
		return nil, err
	}
	return f.Shard.Snapshot(ctx, asOf)
}

func (f *frozenShard) Listen(ctx context.Context, from timely.Frontier) (persistence.Listener, error) {
	if err := f.store.wait(ctx, "Listen", f.name); err != nil {
		return nil, err
	}
	return f.Shard.Listen(ctx, from)
}

func (f *frozenShard) ReadRange(ctx context.Context, lo, hi timely.Timestamp) ([]persistence.Update, error) {
	if err := f.store.wait(ctx, "ReadRange", f.name); err != nil {
		return nil, err
	}
	return f.Shard.ReadRange(ctx, lo, hi)
}

func (f *frozenShard) Upper(ctx context.Context) (timely.Frontier, error) {
	if err := f.store.wait(ctx, "Upper", f.name); err != nil {
		return timely.Frontier{}, err
	}
	return f.Shard.Upper(ctx)
}

func (f *frozenShard) Since(ctx context.Context) (timely.Frontier, error) {
	if err := f.store.wait(ctx, "Since", f.name); err != nil {
		return timely.Frontier{}, err
	}
	return f.Shard.Since(ctx)
}

func (f *frozenShard) DowngradeSince(ctx context.Context, since timely.Frontier) error {
	if err := f.store.wait(ctx, "DowngradeSince", f.name); err != nil {
		return err
	}
	return f.Shard.DowngradeSince(ctx, since)
}

// With the backend frozen, storage never hangs: a request that needs no
// backend call (frontiers, a read hold) is answered, even while a
// snapshot's read or a group commit's append hangs, and one that does (a
// snapshot, a range read, a write) is answered once its call deadline
// passes, with a TIMEOUT-coded
// error naming the operation and the table. A write's timeout has an
// unknown outcome, so the actor restarts and recovers once the backend
// answers again.
func TestFrozenBackendTimesOut(t *testing.T) {
	const deadline = 300 * time.Millisecond
	store := newFrozenStore()
	t.Cleanup(func() { _ = store.Close() })
	h := newHarness(t, storage.Config{Store: store, CallTimeout: deadline, OpenTimeout: deadline})
	h.createTable(u1, accounts)
	ts := h.mustWrite(write(rows(u1, row(i64(1), str("a")))))

	store.freeze()

	// No backend call: answered as usual.
	if up := h.upper(); up != timely.At(ts+1) {
		t.Fatalf("upper with a frozen backend %s, want %d", up, ts+1)
	}

	expectTimeout := func(what string, w *messages.Error, op string) {
		t.Helper()
		err := messages.ErrorFromWire(w)
		if w.GetCode() != messages.ErrorCode_ERROR_CODE_TIMEOUT || !errors.Is(err, storage.ErrTimeout) || !errors.Is(err, messages.ErrTimeout) {
			t.Fatalf("%s with a frozen backend: %v (code %s), want a timeout", what, err, w.GetCode())
		}
		if !strings.Contains(w.GetMessage(), op) || !strings.Contains(w.GetMessage(), deadline.String()) {
			t.Fatalf("%s: timeout %q does not name %q and the deadline", what, w.GetMessage(), op)
		}
		if w.GetObject() != "table u1" {
			t.Fatalf("%s: timeout names object %q, want table u1", what, w.GetObject())
		}
	}
	// While a snapshot's read hangs, the actor answers the frontiers
	// first.
	h.probe.Send(h.pid, &messages.StorageSnapshot{Tables: wireIds([]timely.GlobalId{u1})})
	store.waitBlocked(t, "Snapshot "+storage.ShardName(u1))
	if up := h.upper(); up != timely.At(ts+1) {
		t.Fatalf("upper during a hanging snapshot %s, want %d", up, ts+1)
	}
	expectTimeout("snapshot", testkit.ExpectMsg[*messages.StorageSnapshotResponse](h.probe, timeout).Error, "snapshot table u1")
	expectTimeout("range read", readRange(h, 0, ts+1).Error, "read table u1")

	// While the group commit's append hangs, the actor answers requests
	// that need no backend call before the write's answer.
	h.probe.Send(h.pid, write(rows(u1, row(i64(2), str("b")))))
	store.waitBlocked(t, "CompareAndAppend "+storage.ShardName(u1))
	if f := ask[*messages.StorageFrontiersResponse](h, &messages.StorageFrontiers{}); f.Error != nil {
		t.Fatalf("frontiers during a hanging commit: %v", f.Error)
	}
	hold := ask[*messages.StorageReadHoldResponse](h, &messages.StorageAcquireReadHold{HoldId: "h", At: uint64(ts)})
	if hold.Error != nil || hold.GetAt() != uint64(ts) {
		t.Fatalf("read hold during a hanging commit: %v", hold)
	}
	r := testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout)
	expectTimeout("write", r.Error, "append table u1")
	if !strings.Contains(r.Error.GetMessage(), "may or may not be durable") {
		t.Fatalf("a timed-out write does not say its outcome is unknown: %q", r.Error.GetMessage())
	}

	// The timed-out commit restarted the actor; once the backend answers
	// it recovers, and the tables agree on one upper.
	store.thaw()
	f := h.frontiers()
	up, _ := f.Upper.ToTimely()
	for _, tf := range f.Tables {
		if got, _ := tf.Upper.ToTimely(); got != up {
			t.Fatalf("table %v upper %s, common upper %s", tf.Table, got, up)
		}
	}
	h.mustWrite(write(rows(u1, row(i64(3), str("c")))))
}

// Creating or dropping a table waits for the group commit in flight (and
// a drop for the reads in flight), and the requests behind it wait too, so
// every request takes effect in arrival order: a write after a create
// succeeds, a write after a drop fails with DROPPED, and the writes staged
// before a drop commit first.
func TestTableChangesWaitForTheGroupInFlight(t *testing.T) {
	store := newFrozenStore()
	t.Cleanup(func() { _ = store.Close() })
	h := newHarness(t, storage.Config{Store: store})
	h.createTable(u1, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a")))))

	store.freeze()
	h.probe.Send(h.pid, write(rows(u1, row(i64(2), str("b")))))
	store.waitBlocked(t, "CompareAndAppend "+storage.ShardName(u1))
	h.probe.Send(h.pid, &messages.StorageCreateTable{Table: messages.FromGlobalId(u2), Schema: dataflow.SchemaToWire(accounts)})
	h.probe.Send(h.pid, write(rows(u2, row(i64(3), str("c")))))
	if f := ask[*messages.StorageFrontiersResponse](h, &messages.StorageFrontiers{}); len(f.Tables) != 1 {
		t.Fatalf("frontiers while the create waits: %v", f)
	}
	store.thaw()
	w1 := testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout)
	if c := testkit.ExpectMsg[*messages.StorageCreateTableResponse](h.probe, timeout); c.Error != nil {
		t.Fatalf("create after the group: %v", c.Error)
	}
	w2 := testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout)
	if w1.Error != nil || w2.Error != nil || w2.Timestamp <= w1.Timestamp {
		t.Fatalf("writes around a create: %v then %v", w1, w2)
	}

	store.freeze()
	h.probe.Send(h.pid, write(rows(u1, row(i64(4), str("d")))))
	store.waitBlocked(t, "CompareAndAppend "+storage.ShardName(u1))
	h.probe.Send(h.pid, write(rows(u2, row(i64(5), str("e")))))
	h.probe.Send(h.pid, &messages.StorageDropTable{Table: messages.FromGlobalId(u1)})
	h.probe.Send(h.pid, write(rows(u1, row(i64(6), str("f")))))
	store.thaw()
	if w := testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout); w.Error != nil {
		t.Fatalf("write in flight before a drop: %v", w.Error)
	}
	if w := testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout); w.Error != nil {
		t.Fatalf("write staged before a drop: %v", w.Error)
	}
	if d := testkit.ExpectMsg[*messages.StorageDropTableResponse](h.probe, timeout); d.Error != nil {
		t.Fatalf("drop after the groups: %v", d.Error)
	}
	w := testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout)
	if err := messages.ErrorFromWire(w.Error); !errors.Is(err, storage.ErrTableDropped) {
		t.Fatalf("write after a drop: %v", err)
	}
	if got := tableRows(t, h.snapshot(nil, u2), u2); len(got) != 2 {
		t.Fatalf("u2 after the drop of u1: %v", got)
	}

	// A drop waits for the reads in flight too (it closes the table's
	// shard handle).
	store.freeze()
	h.probe.Send(h.pid, &messages.StorageSnapshot{Tables: wireIds([]timely.GlobalId{u2})})
	store.waitBlocked(t, "Snapshot "+storage.ShardName(u2))
	h.probe.Send(h.pid, &messages.StorageDropTable{Table: messages.FromGlobalId(u2)})
	store.thaw()
	if got := tableRows(t, testkit.ExpectMsg[*messages.StorageSnapshotResponse](h.probe, timeout), u2); len(got) != 2 {
		t.Fatalf("snapshot in flight before a drop: %v", got)
	}
	if d := testkit.ExpectMsg[*messages.StorageDropTableResponse](h.probe, timeout); d.Error != nil {
		t.Fatalf("drop after the read: %v", d.Error)
	}
}

// Requests waiting for a group commit that fails are not lost: the
// restarted actor serves them first, in arrival order.
func TestWaitingRequestsSurviveARestart(t *testing.T) {
	const deadline = 200 * time.Millisecond
	store := newFrozenStore()
	t.Cleanup(func() { _ = store.Close() })
	h := newHarness(t, storage.Config{Store: store, CallTimeout: deadline})
	h.createTable(u1, accounts)

	store.freeze()
	h.probe.Send(h.pid, write(rows(u1, row(i64(1), str("a")))))
	store.waitBlocked(t, "CompareAndAppend "+storage.ShardName(u1))
	h.probe.Send(h.pid, &messages.StorageDropTable{Table: messages.FromGlobalId(u1)})
	h.probe.Send(h.pid, write(rows(u1, row(i64(2), str("b")))))
	w := testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout)
	if w.Error.GetCode() != messages.ErrorCode_ERROR_CODE_TIMEOUT {
		t.Fatalf("write whose append hung: %v", w)
	}
	store.thaw()
	if d := testkit.ExpectMsg[*messages.StorageDropTableResponse](h.probe, timeout); d.Error != nil {
		t.Fatalf("drop that waited across the restart: %v", d.Error)
	}
	w = testkit.ExpectMsg[*messages.StorageWriteResponse](h.probe, timeout)
	if err := messages.ErrorFromWire(w.Error); !errors.Is(err, storage.ErrTableDropped) {
		t.Fatalf("write after the drop, across the restart: %v", err)
	}
}

// A read in flight holds back compaction of its tables at its time, even
// after the read hold that allowed it is released, until it is done.
func TestReadInFlightHoldsBackCompaction(t *testing.T) {
	store := newFrozenStore()
	t.Cleanup(func() { _ = store.Close() })
	h := newHarness(t, storage.Config{Store: store})
	h.createTable(u1, accounts)
	first := h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	if r := ask[*messages.StorageReadHoldResponse](h, &messages.StorageAcquireReadHold{HoldId: "h", At: uint64(first)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	h.mustWrite(write(rows(u1, row(i64(2), str("b")))))
	last := h.mustWrite(write(rows(u1, row(i64(3), str("c")))))

	store.freezeOnly("Snapshot")
	asOf := uint64(first)
	h.probe.Send(h.pid, &messages.StorageSnapshot{Tables: wireIds([]timely.GlobalId{u1}), AsOf: &asOf})
	store.waitBlocked(t, "Snapshot "+storage.ShardName(u1))
	if r := ask[*messages.StorageReadHoldResponse](h, &messages.StorageReleaseReadHold{HoldId: "h"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if since := sinceOf(h, u1); since != first {
		t.Fatalf("since %d while a read at %d is in flight", since, first)
	}
	store.thaw()
	if got := tableRows(t, testkit.ExpectMsg[*messages.StorageSnapshotResponse](h.probe, timeout), u1); len(got) != 1 {
		t.Fatalf("snapshot at %d: %v", first, got)
	}
	h.clk.Advance(storage.DefaultMaintenance)
	testkit.Eventually(t, func() bool { return sinceOf(h, u1) == last }, timeout, "compaction resumes once the read is done")
}
