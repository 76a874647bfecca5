package storage_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

// frozenStore is a backend that stops answering: while frozen, every call
// on it or on a shard it opened blocks until the call's context ends and
// returns the context's error, like a SIGSTOPped etcd. Calls made while
// thawed go to the wrapped store.
type frozenStore struct {
	persistence.Store
	frozen atomic.Bool
}

// wait blocks until ctx ends when the store is frozen.
func (f *frozenStore) wait(ctx context.Context) error {
	if !f.frozen.Load() {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (f *frozenStore) OpenShard(ctx context.Context, name string) (persistence.Shard, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	s, err := f.Store.OpenShard(ctx, name)
	if err != nil {
		return nil, err
	}
	return &frozenShard{Shard: s, store: f}, nil
}

type frozenShard struct {
	persistence.Shard
	store *frozenStore
}

func (f *frozenShard) CompareAndAppend(ctx context.Context, ups []persistence.Update, expected, next timely.Frontier) error {
	if err := f.store.wait(ctx); err != nil {
		return err
	}
	return f.Shard.CompareAndAppend(ctx, ups, expected, next)
}

func (f *frozenShard) Snapshot(ctx context.Context, asOf timely.Timestamp) ([]persistence.Update, error) {
	if err := f.store.wait(ctx); err != nil {
		return nil, err
	}
	return f.Shard.Snapshot(ctx, asOf)
}

func (f *frozenShard) Listen(ctx context.Context, from timely.Frontier) (persistence.Listener, error) {
	if err := f.store.wait(ctx); err != nil {
		return nil, err
	}
	return f.Shard.Listen(ctx, from)
}

func (f *frozenShard) Upper(ctx context.Context) (timely.Frontier, error) {
	if err := f.store.wait(ctx); err != nil {
		return timely.Frontier{}, err
	}
	return f.Shard.Upper(ctx)
}

func (f *frozenShard) Since(ctx context.Context) (timely.Frontier, error) {
	if err := f.store.wait(ctx); err != nil {
		return timely.Frontier{}, err
	}
	return f.Shard.Since(ctx)
}

func (f *frozenShard) DowngradeSince(ctx context.Context, since timely.Frontier) error {
	if err := f.store.wait(ctx); err != nil {
		return err
	}
	return f.Shard.DowngradeSince(ctx, since)
}

// With the backend frozen, storage never hangs: a request that needs no
// backend call (frontiers) is answered, and one that does (a snapshot, a
// write, a range read) is answered once its call deadline passes, with a
// TIMEOUT-coded error naming the operation and the table. A write's
// timeout has an unknown outcome, so the actor restarts and recovers once
// the backend answers again.
func TestFrozenBackendTimesOut(t *testing.T) {
	const deadline = 100 * time.Millisecond
	store := &frozenStore{Store: mem.New()}
	t.Cleanup(func() { _ = store.Close() })
	h := newHarness(t, storage.Config{Store: store, CallTimeout: deadline, OpenTimeout: deadline})
	h.createTable(u1, accounts)
	ts := h.mustWrite(write(rows(u1, row(i64(1), str("a")))))

	store.frozen.Store(true)

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
	expectTimeout("snapshot", h.snapshot(nil, u1).Error, "snapshot table u1")
	expectTimeout("range read", readRange(h, 0, ts+1).Error, "read table u1")
	r := h.write(write(rows(u1, row(i64(2), str("b")))))
	expectTimeout("write", r.Error, "append table u1")
	if !strings.Contains(r.Error.GetMessage(), "may or may not be durable") {
		t.Fatalf("a timed-out write does not say its outcome is unknown: %q", r.Error.GetMessage())
	}

	// The timed-out commit restarted the actor; once the backend answers
	// it recovers, and the tables agree on one upper.
	store.frozen.Store(false)
	f := h.frontiers()
	up, _ := f.Upper.ToTimely()
	for _, tf := range f.Tables {
		if got, _ := tf.Upper.ToTimely(); got != up {
			t.Fatalf("table %v upper %s, common upper %s", tf.Table, got, up)
		}
	}
	h.mustWrite(write(rows(u1, row(i64(3), str("c")))))
}
