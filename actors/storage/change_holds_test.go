package storage_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

func acquireChange(id string, at timely.Timestamp, atLeast bool, tables ...timely.GlobalId) *messages.StorageReadHoldChange {
	return &messages.StorageReadHoldChange{Change: &messages.StorageReadHoldChange_Acquire{Acquire: &messages.StorageAcquireReadHold{HoldId: id, Tables: wireIds(tables), At: uint64(at), AtLeast: atLeast}}}
}

func downgradeChange(id string, at timely.Timestamp) *messages.StorageReadHoldChange {
	return &messages.StorageReadHoldChange{Change: &messages.StorageReadHoldChange_Downgrade{Downgrade: &messages.StorageDowngradeReadHold{HoldId: id, At: uint64(at)}}}
}

func releaseChange(id string) *messages.StorageReadHoldChange {
	return &messages.StorageReadHoldChange{Change: &messages.StorageReadHoldChange_Release{Release: &messages.StorageReleaseReadHold{HoldId: id}}}
}

// StorageChangeReadHolds applies its changes in order, each as its own
// request would (an unknown hold or a regression fails that change only),
// answers one result per change, and compacts once they are applied.
func TestChangeReadHolds(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	ts := writeVersions(h, 5)
	p := testkit.NewProbe(t, h.sys)
	p.Send(h.pid, &messages.StorageChangeReadHolds{Changes: []*messages.StorageReadHoldChange{
		acquireChange("a", ts[0], false, u1),
		acquireChange("b", ts[1], false, u1),
		downgradeChange("a", ts[2]),
		downgradeChange("b", ts[0]), // a regression
		releaseChange("nope"),       // unknown
		{},                          // names nothing
		releaseChange("b"),
	}})
	r := testkit.ExpectMsg[*messages.StorageChangeReadHoldsResponse](p, timeout)
	if r.GetError() != nil {
		t.Fatal(messages.ErrorFromWire(r.GetError()))
	}
	var got []string
	for _, res := range r.GetResults() {
		switch err := messages.ErrorFromWire(res.GetError()); {
		case err == nil && res.At != nil:
			got = append(got, fmt.Sprintf("%s@%d", res.GetHoldId(), res.GetAt()))
		case err == nil:
			got = append(got, res.GetHoldId()+" released")
		case errors.Is(err, storage.ErrHoldRegression):
			got = append(got, res.GetHoldId()+" regression")
		case errors.Is(err, storage.ErrUnknownId):
			got = append(got, res.GetHoldId()+" unknown")
		case errors.Is(err, storage.ErrMalformed):
			got = append(got, "malformed")
		default:
			t.Fatalf("result %v", err)
		}
	}
	want := fmt.Sprintf("[a@%d b@%d a@%d b regression nope unknown malformed b released]", ts[0], ts[1], ts[2])
	if fmt.Sprint(got) != want {
		t.Fatalf("results:\n got %v\nwant %s", got, want)
	}
	// Only "a" at ts[2] is left; the sender owns it.
	if l := listHolds(t, h, "", map[string]string{p.PID().GetAddress() + "/" + p.PID().GetId(): "P"}); fmt.Sprint(l) != fmt.Sprintf("[a@%d[u1]P]", ts[2]) {
		t.Fatalf("holds after the batch: %v", l)
	}
	h.clk.Advance(storage.DefaultMaintenance)
	testkit.Eventually(t, func() bool { return sinceOf(h, u1) == ts[2] }, timeout, "the table compacts up to the hold left")
	h.sys.Root.Stop(p.PID())
	testkit.Eventually(t, func() bool { return len(listHolds(t, h, "", nil)) == 0 }, timeout, "a batch's holds go with their owner")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReadHoldStep is one step of a holder with k holds on a table
// (the environment applying an instance step that moves every hold): k
// StorageDowngradeReadHold requests, the same-run baseline, against one
// StorageChangeReadHolds. Storage compacts after every downgrade that
// moved a hold (a scan of every table's holds and a commit-log
// compaction), so a batch compacts once where k requests compact k
// times. Reported: CPU time of the whole process per step and storage
// messages per step. Pebble, as on a node.
func BenchmarkReadHoldStep(b *testing.B) {
	for _, k := range []int{2, 8} {
		for _, batched := range []bool{false, true} {
			name := fmt.Sprintf("holds=%d/per-change", k)
			if batched {
				name = fmt.Sprintf("holds=%d/batched", k)
			}
			b.Run(name, func(b *testing.B) { benchHoldStep(b, k, batched) })
		}
	}
}

func benchHoldStep(b *testing.B, k int, batched bool) {
	sys := testkit.NewSystem(b)
	store := backends[1].open(b)
	props, err := storage.New(storage.Config{Store: store, Clock: testkit.RealClock(), Logger: testkit.QuietLogger(), MaintenanceInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	pid := sys.Root.Spawn(props)
	b.Cleanup(func() {
		_ = sys.Root.StopFuture(pid).Wait()
		_ = store.Close()
	})
	res, err := sys.Root.RequestFuture(pid, &messages.StorageCreateTable{Table: messages.FromGlobalId(u1), Schema: dataflow.SchemaToWire(accounts)}, timeout).Result()
	if err != nil || res.(*messages.StorageCreateTableResponse).Error != nil {
		b.Fatal(err, res)
	}
	p := testkit.NewProbe(b, sys)
	for i := range k {
		p.Send(pid, &messages.StorageAcquireReadHold{HoldId: fmt.Sprintf("h%d", i), Tables: wireIds([]timely.GlobalId{u1})})
		if r := testkit.ExpectMsg[*messages.StorageReadHoldResponse](p, timeout); r.GetError() != nil {
			b.Fatal(messages.ErrorFromWire(r.GetError()))
		}
	}
	h := struct{ pid *actor.PID }{pid}
	var at timely.Timestamp
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		at++
		if batched {
			m := &messages.StorageChangeReadHolds{}
			for i := range k {
				m.Changes = append(m.Changes, downgradeChange(fmt.Sprintf("h%d", i), at))
			}
			p.Send(h.pid, m)
			if r := testkit.ExpectMsg[*messages.StorageChangeReadHoldsResponse](p, timeout); r.GetError() != nil || len(r.GetResults()) != k {
				b.Fatal(r)
			}
			continue
		}
		for i := range k {
			p.Send(h.pid, &messages.StorageDowngradeReadHold{HoldId: fmt.Sprintf("h%d", i), At: uint64(at)})
		}
		for range k {
			if r := testkit.ExpectMsg[*messages.StorageReadHoldResponse](p, timeout); r.GetError() != nil {
				b.Fatal(messages.ErrorFromWire(r.GetError()))
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/step")
	msgs := k
	if batched {
		msgs = 1
	}
	b.ReportMetric(float64(msgs), "msgs/step")
}
