package storage_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// listHolds asks storage for the holds whose id starts with prefix and
// renders them "<id>@<at>[<tables>]<owner>", in the order answered.
func listHolds(t *testing.T, h *harness, prefix string, owners map[string]string) []string {
	t.Helper()
	p := testkit.NewProbe(t, h.sys)
	p.Send(h.pid, &messages.StorageListReadHolds{Prefix: prefix})
	r := testkit.ExpectMsg[*messages.StorageListReadHoldsResponse](p, timeout)
	if r.Error != nil {
		t.Fatal(messages.ErrorFromWire(r.Error))
	}
	var out []string
	for _, hd := range r.GetHolds() {
		var tables []string
		for _, id := range hd.GetTables() {
			g, err := id.ToTimely()
			if err != nil {
				t.Fatal(err)
			}
			tables = append(tables, g.String())
		}
		out = append(out, fmt.Sprintf("%s@%d[%s]%s", hd.GetHoldId(), hd.GetAt(), strings.Join(tables, ","), owners[hd.GetOwner()]))
	}
	return out
}

// StorageListReadHolds lists the holds by prefix with their tables, time
// and owner, in id order; a release and an owner's end show in the next
// list.
func TestListReadHolds(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	ts := writeVersions(h, 2)
	a, b := testkit.NewProbe(t, h.sys), testkit.NewProbe(t, h.sys)
	owners := map[string]string{}
	for name, p := range map[string]*testkit.Probe{"A": a, "B": b} {
		owners[p.PID().GetAddress()+"/"+p.PID().GetId()] = name
	}
	acquire := func(p *testkit.Probe, id string, at timely.Timestamp, tables ...timely.GlobalId) {
		p.Send(h.pid, &messages.StorageAcquireReadHold{HoldId: id, Tables: wireIds(tables), At: uint64(at)})
		holdAt(t, testkit.ExpectMsg[*messages.StorageReadHoldResponse](p, timeout))
	}
	acquire(a, "env5/c1/h2", ts[0], u2, u1)
	acquire(a, "env5/peek/x", ts[1])
	acquire(b, "env6/c1/h1", ts[1], u1)
	acquire(b, "rt/u9", ts[0], u2)

	want := fmt.Sprintf("[env5/c1/h2@%d[u1,u2]A env5/peek/x@%d[]A env6/c1/h1@%d[u1]B]", ts[0], ts[1], ts[1])
	if got := fmt.Sprint(listHolds(t, h, "env", owners)); got != want {
		t.Fatalf("holds with prefix env:\n got %s\nwant %s", got, want)
	}
	if got := listHolds(t, h, "env5/", owners); len(got) != 2 {
		t.Fatalf("holds with prefix env5/: %v", got)
	}
	if got := listHolds(t, h, "", owners); len(got) != 4 {
		t.Fatalf("every hold: %v", got)
	}

	a.Send(h.pid, &messages.StorageReleaseReadHold{HoldId: "env5/peek/x"})
	testkit.ExpectMsg[*messages.StorageReadHoldResponse](a, timeout)
	if got := fmt.Sprint(listHolds(t, h, "env5/", owners)); got != fmt.Sprintf("[env5/c1/h2@%d[u1,u2]A]", ts[0]) {
		t.Fatalf("after a release: %s", got)
	}
	h.sys.Root.Stop(b.PID())
	testkit.Eventually(t, func() bool { return len(listHolds(t, h, "", owners)) == 1 }, timeout, "the holds of a terminated owner go")
}
