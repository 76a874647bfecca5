package instance

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestUnregisterStorage: a storage collection read by a live dataflow
// cannot be unregistered (nothing changes); once the reader is dropped,
// unregistering releases every read hold on it (the dropped reader's
// dependency hold and an outside holder's included) to storage, the dump no longer
// lists it, a new dataflow naming it is refused as unknown, and the
// dropped reader's cleanup does not trip over it. An unknown id, a second
// unregister and a compute collection are refused as unknown.
func TestUnregisterStorage(t *testing.T) {
	h := newHarness(t)
	c := h.core
	mv, tbl, reader := timely.UserId(7), timely.UserId(1), timely.UserId(20)
	for _, id := range []timely.GlobalId{mv, tbl} {
		if err := c.RegisterStorage(StorageCollection{Id: id, Since: timely.At(2), Upper: timely.At(10)}); err != nil {
			t.Fatal(err)
		}
	}
	desc := &messages.ComputeDataflowDescription{DebugName: "reader", AsOf: messages.FromFrontier(timely.At(3)),
		SourceImports: []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(mv), Collection: true}, {Id: messages.FromGlobalId(tbl)}},
		IndexExports:  []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(reader), On: messages.FromGlobalId(reader)}}}
	if err := c.CreateDataflow(desc, DataflowOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Drain()

	err := c.UnregisterStorage(mv)
	if !errors.Is(err, ErrCollectionInUse) || !strings.Contains(err.Error(), reader.String()) {
		t.Fatalf("unregister while read: %v, want ErrCollectionInUse naming %s", err, reader)
	}
	if fx := c.Drain(); len(fx.StorageHolds) != 0 {
		t.Fatalf("a refused unregister changed holds: %+v", fx.StorageHolds)
	}
	if !dumpLists(c, mv) {
		t.Fatal("a refused unregister removed the collection")
	}

	// An outside hold keeps the dropped reader (and its dependency holds)
	// alive after its drop.
	readerHold, err := c.AcquireReadHold(reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DropCollections(reader); err != nil {
		t.Fatal(err)
	}
	hold, err := c.AcquireReadHold(mv) // an outside holder's
	if err != nil {
		t.Fatal(err)
	}
	c.Drain()
	if err := c.UnregisterStorage(mv); err != nil {
		t.Fatal(err)
	}
	released := map[HoldId]bool{}
	for _, ch := range c.Drain().StorageHolds {
		if ch.Collection != mv || ch.Op != HoldRelease {
			t.Fatalf("unexpected storage hold change %+v", ch)
		}
		released[ch.Hold] = true
	}
	if !released[hold.Id] || len(released) < 2 {
		t.Fatalf("released %v, want the client's hold %d and the reader's", released, hold.Id)
	}
	for _, h := range c.holds {
		if h.Collection == mv {
			t.Fatalf("hold %d on %s left", h.Id, mv)
		}
	}
	if dumpLists(c, mv) {
		t.Fatal("the dump still lists the unregistered collection")
	}
	if !dumpLists(c, tbl) {
		t.Fatal("the other storage collection went too")
	}
	desc.ObjectsToBuild, desc.IndexExports = nil, []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(timely.UserId(21)), On: messages.FromGlobalId(timely.UserId(21))}}
	if err := c.CreateDataflow(desc, DataflowOptions{}); !errors.Is(err, ErrUnknownCollection) {
		t.Fatalf("dataflow over the unregistered collection: %v", err)
	}
	if err := c.ReleaseReadHold(hold.Id); !errors.Is(err, ErrUnknownHold) {
		t.Fatalf("releasing a hold unregister released: %v", err)
	}
	// The dropped reader still cleans up: its hold on the table goes, and
	// the hold it had on the unregistered collection is not touched again.
	if err := c.ReleaseReadHold(readerHold.Id); err != nil {
		t.Fatal(err)
	}
	var tableReleased bool
	for _, ch := range c.Drain().StorageHolds {
		if ch.Collection == mv {
			t.Fatalf("hold change on the unregistered collection: %+v", ch)
		}
		tableReleased = tableReleased || (ch.Collection == tbl && ch.Op == HoldRelease)
	}
	if !tableReleased {
		t.Fatal("the dropped reader's hold on the table was not released")
	}

	for _, id := range []timely.GlobalId{mv, timely.UserId(99), reader} {
		if err := c.UnregisterStorage(id); !errors.Is(err, ErrUnknownCollection) {
			t.Fatalf("unregister %s: %v, want ErrUnknownCollection", id, err)
		}
	}
	if err := c.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

func dumpLists(c *Core, id timely.GlobalId) bool {
	for _, cd := range c.Dump(time.Time{}).Collections {
		if cd.Id == id.String() {
			return true
		}
	}
	return false
}
