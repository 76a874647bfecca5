package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/pebble"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

func openPebble(t *testing.T, dir string) persistence.Store {
	t.Helper()
	s, err := pebble.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// restart stops the actor, closes and reopens the pebble store, and starts
// a new actor on it.
func (h *harness) restartPebble(dir string) {
	h.t.Helper()
	h.stop()
	if err := h.store.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.store = openPebble(h.t, dir)
	h.cfg.Store = h.store
	h.start()
}

func TestPebbleTablesAndRowsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, storage.Config{Store: openPebble(t, dir)})
	t.Cleanup(func() { _ = h.store.Close() }) // after the actor stops (cleanups run last-in first-out)
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	h.createTable(u3, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a")), row(i64(2), str("b"))), rows(u3, row(i64(3), str("c")))))
	h.mustWrite(write(retract(u1, row(i64(2), str("b"))), rows(u2, row(i64(4), str("d")))))
	if r := ask[*messages.StorageDropTableResponse](h, &messages.StorageDropTable{Table: messages.FromGlobalId(u3)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	before := contents(h)
	upper := h.upperTime()

	h.restartPebble(dir)

	if after := contents(h); after != before {
		t.Fatalf("after restart %s, before %s", after, before)
	}
	if want := `[` + fmt.Sprint(upper) + `] u1:(1, "a")x1 u2:(4, "d")x1`; before != want {
		t.Fatalf("contents %s, want %s", before, want)
	}
	// The dropped table stays dropped; the schemas are back.
	if r := h.write(write(rows(u3, row(i64(5), str("e"))))); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrTableDropped) {
		t.Fatalf("write to dropped table after restart: %v", r.Error)
	}
	if r := h.write(write(rows(u1, row(str("bad"), str("e"))))); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrInvalidRow) {
		t.Fatalf("bad row after restart: %v", r.Error)
	}
	// The oracle continues past the old upper even though the clock did not move.
	if ts := h.mustWrite(write(rows(u2, row(i64(6), str("f"))))); ts != upper {
		t.Fatalf("first timestamp after restart %d, want the old upper %d", ts, upper)
	}
}

// flakyStore fails the next CompareAndAppend of shard target when armed.
type flakyStore struct {
	persistence.Store
	target string
	fail   atomic.Bool
}

func (f *flakyStore) OpenShard(ctx context.Context, name string) (persistence.Shard, error) {
	s, err := f.Store.OpenShard(ctx, name)
	if err != nil || name != f.target {
		return s, err
	}
	return &flakyShard{Shard: s, store: f}, nil
}

type flakyShard struct {
	persistence.Shard
	store *flakyStore
}

func (f *flakyShard) CompareAndAppend(ctx context.Context, ups []persistence.Update, expected, next timely.Frontier) error {
	if f.store.fail.CompareAndSwap(true, false) {
		return errors.New("injected backend failure")
	}
	return f.Shard.CompareAndAppend(ctx, ups, expected, next)
}

// A group commit is atomic across tables. When a table append fails after
// the commit log append, the writers hear ErrBackend (outcome unknown),
// the actor restarts and completes the group on the table it missed; when
// the commit log append fails, no table has any of the group.
func TestGroupCommitIsAtomicAcrossTables(t *testing.T) {
	both := write(rows(u1, row(i64(2), str("b"))), rows(u2, row(i64(2), str("b"))))
	one := write(rows(u1, row(i64(2), str("b"))))
	for _, c := range []struct {
		name, target string
		w            *messages.StorageWrite
		want         string
	}{
		{"two tables, a table append fails", storage.ShardName(u2), both, `u1:(1, "a")x1,(2, "b")x1 u2:(2, "b")x1,(3, "c")x1`},
		{"two tables, the commit log append fails", storage.TxnsShard, both, `u1:(1, "a")x1 u2:(3, "c")x1`},
		{"one table, its append fails", storage.ShardName(u1), one, `u1:(1, "a")x1 u2:(3, "c")x1`},
		{"one table, another table's append fails", storage.ShardName(u2), one, `u1:(1, "a")x1,(2, "b")x1 u2:(3, "c")x1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			store := &flakyStore{Store: openPebble(t, dir), target: c.target}
			h := newHarness(t, storage.Config{Store: store})
			t.Cleanup(func() { _ = h.store.Close() })
			h.createTable(u1, accounts)
			h.createTable(u2, accounts)
			h.mustWrite(write(rows(u1, row(i64(1), str("a")))))

			store.fail.Store(true)
			r := h.write(c.w)
			if err := messages.ErrorFromWire(r.Error); !errors.Is(err, storage.ErrBackend) {
				t.Fatalf("write during a backend failure: %v", err)
			}
			// The supervisor restarted the actor; its uppers agree.
			f := h.frontiers()
			up, _ := f.Upper.ToTimely()
			for _, tf := range f.Tables {
				if got, _ := tf.Upper.ToTimely(); got != up {
					t.Fatalf("table %v upper %s, common upper %s", tf.Table, got, up)
				}
			}
			h.mustWrite(write(rows(u2, row(i64(3), str("c")))))
			if got := contents(h); !strings.HasSuffix(got, "] "+c.want) {
				t.Fatalf("contents after recovery: %s, want %s", got, c.want)
			}
			// And the same after the process restarts.
			before := contents(h)
			h.restartPebble(dir)
			if after := contents(h); after != before {
				t.Fatalf("after restart %s, before %s", after, before)
			}
			// Logged groups work after the restart.
			h.mustWrite(write(rows(u1, row(i64(9), str("z"))), rows(u2, row(i64(9), str("z")))))
			h.restartPebble(dir)
			if got := contents(h); !strings.Contains(got, `(3, "c")x1,(9, "z")x1`) || strings.Count(got, `(9, "z")`) != 2 {
				t.Fatalf("contents after a logged group and a restart: %s", got)
			}
		})
	}
}

// Subscriptions and read holds survive a restart by the supervisor: the
// consumer gets the group whose commit failed but which recovery made
// durable, and its hold still bounds compaction.
func TestConsumersSurviveSupervisorRestart(t *testing.T) {
	store := &flakyStore{Store: openPebble(t, t.TempDir()), target: storage.ShardName(u2)}
	h := newHarness(t, storage.Config{Store: store})
	t.Cleanup(func() { _ = store.Close() })
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	first := h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	c := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(first)}); r.Error != nil {
		t.Fatal(r.Error)
	}
	expectBatch(t, c, "s")
	expectProgress(t, c, "s")

	store.fail.Store(true)
	r := h.write(write(rows(u1, row(i64(2), str("b"))), rows(u2, row(i64(2), str("b")))))
	if !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrBackend) {
		t.Fatalf("write during a backend failure: %v", r.Error)
	}
	// The group was logged, so recovery completed it: the consumer gets it.
	v, got := expectBatch(t, c, "s")
	if got != `map[u1:map[(2, "b"):1] u2:map[(2, "b"):1]]` {
		t.Fatalf("resumed batch (%d, %s)", v, got)
	}
	if p := expectProgress(t, c, "s"); p != timely.At(v+1) {
		t.Fatalf("progress %s after resumed batch %d", p, v)
	}
	// Live batches continue.
	ts := h.mustWrite(write(rows(u1, row(i64(3), str("c")))))
	if v, _ := expectBatch(t, c, "s"); v != ts {
		t.Fatalf("live batch at %d, want %d", v, ts)
	}
	expectProgress(t, c, "s")
	// The hold is still at the subscription's start.
	h.clk.Advance(storage.DefaultMaintenance)
	testkit.Eventually(t, func() bool { return sinceOf(h, u1) == first && sinceOf(h, u2) == first }, timeout,
		"compaction stops at the carried hold")
}

// A stopping storage actor tells its subscribers.
func TestStoppingEndsSubscriptions(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	c := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	expectProgress(t, c, "s")
	h.stop()
	e := testkit.ExpectMsg[*messages.StorageCdcEnded](c, timeout)
	if e.SubscriptionId != "s" || e.Error == nil {
		t.Fatalf("end notice %v", e)
	}
}
