package storage_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// writeVersions writes n versions to u1 (row i at version i) and returns
// their timestamps.
func writeVersions(h *harness, n int) []timely.Timestamp {
	h.t.Helper()
	var ts []timely.Timestamp
	for i := range n {
		ts = append(ts, h.mustWrite(write(rows(u1, row(i64(int64(i)), str("v"))))))
	}
	return ts
}

func holdAt(t *testing.T, r *messages.StorageReadHoldResponse) timely.Timestamp {
	t.Helper()
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	return timely.Timestamp(r.GetAt())
}

func TestReadHoldBoundsCompaction(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	ts := writeVersions(h, 6)
	latest := ts[5]

	// Hold u1 at ts[1]; u2 is not held.
	holder := testkit.NewProbe(t, h.sys)
	holder.Send(h.pid, &messages.StorageAcquireReadHold{HoldId: "h", Tables: wireIds([]timely.GlobalId{u1}), At: uint64(ts[1])})
	if at := holdAt(t, testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout)); at != ts[1] {
		t.Fatalf("hold at %d", at)
	}
	h.clk.Advance(storage.DefaultMaintenance)
	testkit.Eventually(t, func() bool { return sinceOf(h, u2) == latest }, timeout, "unheld table compacts to the latest time")
	if s := sinceOf(h, u1); s != ts[1] {
		t.Fatalf("held table's since %d, want the hold %d", s, ts[1])
	}
	// Reads at the hold are still exact; below it they fail.
	at := uint64(ts[1])
	if got := tableRows(t, h.snapshot(&at, u1), u1); fmt.Sprint(got) != `[(0, "v")x1 (1, "v")x1]` {
		t.Fatalf("snapshot at the hold: %v", got)
	}
	before := uint64(ts[0])
	if r := h.snapshot(&before, u1); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrCompacted) {
		t.Fatalf("snapshot below the since: %v", r.Error)
	}

	// Downgrading the hold lets the since follow at once.
	holder.Send(h.pid, &messages.StorageDowngradeReadHold{HoldId: "h", At: uint64(ts[3])})
	holdAt(t, testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout))
	if s := sinceOf(h, u1); s != ts[3] {
		t.Fatalf("since %d after downgrade to %d", s, ts[3])
	}
	// Moving it back is refused.
	holder.Send(h.pid, &messages.StorageDowngradeReadHold{HoldId: "h", At: uint64(ts[2])})
	if r := testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrHoldRegression) {
		t.Fatalf("regressing hold: %v", r.Error)
	}
	// A new hold below the since is refused.
	holder.Send(h.pid, &messages.StorageAcquireReadHold{HoldId: "late", At: uint64(ts[2])})
	if r := testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrCompacted) {
		t.Fatalf("hold below since: %v", r.Error)
	}
	// With at_least it is taken at the since, and says so; an unknown
	// table is still refused.
	holder.Send(h.pid, &messages.StorageAcquireReadHold{HoldId: "late", Tables: wireIds([]timely.GlobalId{u1}), At: uint64(ts[2]), AtLeast: true})
	if at := holdAt(t, testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout)); at != ts[3] {
		t.Fatalf("at_least hold below the since %d taken at %d", ts[3], at)
	}
	holder.Send(h.pid, &messages.StorageAcquireReadHold{HoldId: "unknown", Tables: wireIds([]timely.GlobalId{timely.UserId(99)}), At: uint64(ts[2]), AtLeast: true})
	if r := testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrUnknownId) {
		t.Fatalf("at_least hold of an unknown table: %v", r.Error)
	}
	holder.Send(h.pid, &messages.StorageReleaseReadHold{HoldId: "late"})
	holdAt(t, testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout))
	// Releasing it lets the since advance to the latest time.
	holder.Send(h.pid, &messages.StorageReleaseReadHold{HoldId: "h"})
	if r := testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout); r.Error != nil || r.At != nil {
		t.Fatalf("release: %v", r)
	}
	if s := sinceOf(h, u1); s != latest {
		t.Fatalf("since %d after release, want %d", s, latest)
	}
	holder.Send(h.pid, &messages.StorageReleaseReadHold{HoldId: "h"})
	if r := testkit.ExpectMsg[*messages.StorageReadHoldResponse](holder, timeout); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrUnknownId) {
		t.Fatalf("second release: %v", r.Error)
	}
}

func TestSubscriptionHoldsCompaction(t *testing.T) {
	h := newHarness(t, storage.Config{CompactionWindow: 1})
	h.createTable(u1, accounts)
	ts := writeVersions(h, 3)
	c := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(ts[0])}); r.Error != nil {
		t.Fatal(r.Error)
	}
	more := writeVersions(h, 3)
	h.clk.Advance(storage.DefaultMaintenance)
	// Compaction stops at the subscription's start, though the window
	// alone would allow more.
	testkit.Eventually(t, func() bool { return sinceOf(h, u1) == ts[0] }, timeout)
	lag := counterValue(t, h.reg, "arbor_storage_cdc_lag_versions")
	if want := float64(h.upperTime() - ts[0]); lag != want {
		t.Fatalf("cdc lag %v, want %v", lag, want)
	}
	// The consumer checkpoints: its hold moves, the since follows.
	c.Send(h.pid, &messages.StorageDowngradeReadHold{HoldId: "s", At: uint64(more[1])})
	holdAt(t, fishHold(c))
	if s := sinceOf(h, u1); s != more[1] {
		t.Fatalf("since %d after checkpoint, want %d", s, more[1])
	}
	// The subscription's hold cannot be released on its own.
	c.Send(h.pid, &messages.StorageReleaseReadHold{HoldId: "s"})
	if r := fishHold(c); r.Error == nil {
		t.Fatal("released a subscription's hold without unsubscribing")
	}
	// The consumer terminates: its subscription and hold go.
	h.sys.Root.Stop(c.PID())
	testkit.Eventually(t, func() bool { return counterValue(t, h.reg, "arbor_storage_subscriptions") == 0 }, timeout)
	if s := sinceOf(h, u1); s != h.upperTime()-2 {
		t.Fatalf("since %d after the consumer left, want upper-1-window = %d", s, h.upperTime()-2)
	}
}

func TestHoldReleasedWhenOwnerTerminates(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	ts := writeVersions(h, 3)
	owner := testkit.NewProbe(t, h.sys)
	owner.Send(h.pid, &messages.StorageAcquireReadHold{HoldId: "h", At: uint64(ts[0])})
	holdAt(t, testkit.ExpectMsg[*messages.StorageReadHoldResponse](owner, timeout))
	h.sys.Root.Stop(owner.PID())
	testkit.Eventually(t, func() bool { return sinceOf(h, u1) == ts[2] }, timeout, "since advances once the holder is gone")
}

func (h *harness) upperTime() timely.Timestamp {
	h.t.Helper()
	t, _ := h.upper().Time()
	return t
}

// fishHold skips CDC messages up to the next read-hold response.
func fishHold(p *testkit.Probe) *messages.StorageReadHoldResponse {
	return p.FishFor(func(m any) bool {
		_, ok := m.(*messages.StorageReadHoldResponse)
		return ok
	}, timeout).(*messages.StorageReadHoldResponse)
}

// With hold_follows_progress, a subscription's hold moves with what it
// was sent, so it does not stop compaction.
func TestSubscriptionHoldFollowsProgress(t *testing.T) {
	h := newHarness(t, storage.Config{CompactionWindow: 1})
	h.createTable(u1, accounts)
	ts := writeVersions(h, 2)
	c := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "s", From: uint64(ts[0]), HoldFollowsProgress: true}); r.Error != nil {
		t.Fatal(r.Error)
	}
	more := writeVersions(h, 3)
	h.clk.Advance(storage.DefaultMaintenance)
	latest := more[2]
	testkit.Eventually(t, func() bool { return sinceOf(h, u1) == latest-1 }, timeout, "since trails the upper by the window")
	if lag := counterValue(t, h.reg, "arbor_storage_cdc_lag_versions"); lag != 0 {
		t.Fatalf("cdc lag %v for a following subscription", lag)
	}
}
