package storage_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

var u5 = timely.UserId(5)

func (h *harness) createCollection(id timely.GlobalId, schema dataflow.Schema, lower *uint64) *messages.StorageCreateCollectionResponse {
	h.t.Helper()
	return ask[*messages.StorageCreateCollectionResponse](h, &messages.StorageCreateCollection{Collection: messages.FromGlobalId(id), Schema: dataflow.SchemaToWire(schema), Lower: lower})
}

// upd is one collection update.
func upd(r dataflow.Row, t uint64, diff int64) *messages.StorageUpdate {
	return &messages.StorageUpdate{Row: dataflow.RowToWire(r), Time: t, Diff: diff}
}

func (h *harness) appendTo(id timely.GlobalId, expected, upper uint64, ups ...*messages.StorageUpdate) *messages.StorageAppendResponse {
	h.t.Helper()
	return ask[*messages.StorageAppendResponse](h, &messages.StorageAppend{Collection: messages.FromGlobalId(id), Updates: ups, ExpectedUpper: expected, NewUpper: upper})
}

// collectionUpper returns a collection's upper as StorageFrontiers reports it.
func (h *harness) collectionUpper(id timely.GlobalId) timely.Frontier {
	h.t.Helper()
	r := h.frontiers(id)
	if len(r.Tables) != 1 {
		h.t.Fatalf("frontiers of %s: %v", id, r)
	}
	f, err := r.Tables[0].Upper.ToTimely()
	if err != nil {
		h.t.Fatal(err)
	}
	return f
}

func upperOf(t *testing.T, r *messages.StorageAppendResponse) timely.Frontier {
	t.Helper()
	f, err := r.GetCurrentUpper().ToTimely()
	if err != nil {
		t.Fatalf("append response without current upper: %v", r)
	}
	return f
}

func TestCollectionAppendIsCompareAndAppend(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	tablesUpper := h.upper()

	c := h.createCollection(u5, accounts, nil)
	if c.Error != nil {
		t.Fatal(c.Error)
	}
	if got := h.collectionUpper(u5); !got.Equal(timely.At(0)) {
		t.Fatalf("new collection's upper %s, want 0", got)
	}
	if d := h.createCollection(u5, accounts, nil); !errors.Is(messages.ErrorFromWire(d.Error), messages.ErrAlreadyExists) {
		t.Fatalf("duplicate collection: %v", d.Error)
	}

	// The first append of [0, 3) wins.
	if r := h.appendTo(u5, 0, 3, upd(row(i64(1), str("x")), 0, 1), upd(row(i64(2), str("y")), 2, 2)); r.Error != nil || !upperOf(t, r).Equal(timely.At(3)) {
		t.Fatalf("first append: %v", r)
	}
	// A second writer of the same range learns the upper and writes nothing.
	r := h.appendTo(u5, 0, 3, upd(row(i64(1), str("x")), 0, 1))
	if err := messages.ErrorFromWire(r.Error); !errors.Is(err, storage.ErrUpperMismatch) || !strings.Contains(err.Error(), "u5") {
		t.Fatalf("second append of [0, 3): %v", err)
	}
	if !upperOf(t, r).Equal(timely.At(3)) {
		t.Fatalf("mismatch reports upper %s, want 3", upperOf(t, r))
	}
	// A writer ahead of the upper is refused too.
	if r := h.appendTo(u5, 4, 6); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrUpperMismatch) {
		t.Fatalf("append with a gap: %v", r.Error)
	}
	// It continues from the upper it learned.
	if r := h.appendTo(u5, 3, 5, upd(row(i64(1), str("x")), 4, -1)); r.Error != nil {
		t.Fatal(r.Error)
	}

	// The collection's upper is its own: the tables' upper did not move,
	// and a table write does not move the collection's.
	if got := h.upper(); !got.Equal(tablesUpper) {
		t.Fatalf("tables' upper %s, want %s", got, tablesUpper)
	}
	h.mustWrite(write(rows(u1, row(i64(2), str("b")))))
	if got := h.collectionUpper(u5); !got.Equal(timely.At(5)) {
		t.Fatalf("collection upper %s, want 5", got)
	}

	// Snapshots at times below the collection's upper.
	want := map[uint64]string{
		0: `(1, "x")x1`,
		1: `(1, "x")x1`,
		2: `(1, "x")x1 (2, "y")x2`,
		4: `(2, "y")x2`,
	}
	for at, w := range want {
		if got := strings.Join(tableRows(t, h.snapshot(proto.Uint64(at), u5), u5), " "); got != w {
			t.Fatalf("snapshot at %d: %s, want %s", at, got, w)
		}
	}
	if s := h.snapshot(nil, u5); strings.Join(tableRows(t, s, u5), " ") != want[4] || s.AsOf != 4 {
		t.Fatalf("latest snapshot at %d: %v", s.AsOf, s.Tables)
	}
	if s := h.snapshot(proto.Uint64(5), u5); !errors.Is(messages.ErrorFromWire(s.Error), storage.ErrNotYetReadable) {
		t.Fatalf("snapshot at the upper: %v", s.Error)
	}
	// A range read is clamped to the collection's upper.
	rr := ask[*messages.StorageReadRangeResponse](h, &messages.StorageReadRange{Tables: wireIds([]timely.GlobalId{u5}), Lo: 1, Hi: 100})
	if rr.Error != nil || rr.CompleteTo != 5 || len(rr.Versions) != 2 || rr.Versions[0].Version != 2 || rr.Versions[1].Version != 4 {
		t.Fatalf("range read: %v", rr)
	}
	// "Every table" does not include collections.
	if s := h.snapshot(nil); len(s.Tables) != 1 {
		t.Fatalf("snapshot of every table: %v", s.Tables)
	}
}

func TestCollectionLowerAndDrop(t *testing.T) {
	h := newHarness(t, storage.Config{})
	if c := h.createCollection(u5, accounts, proto.Uint64(10)); c.Error != nil {
		t.Fatal(c.Error)
	}
	if r := h.appendTo(u5, 0, 11); !upperOf(t, r).Equal(timely.At(10)) {
		t.Fatalf("append below the lower: %v", r)
	}
	if r := h.appendTo(u5, 10, 11, upd(row(i64(1), dataflow.Null()), 10, 1)); r.Error != nil {
		t.Fatal(r.Error)
	}
	if d := ask[*messages.StorageDropTableResponse](h, &messages.StorageDropTable{Table: messages.FromGlobalId(u5)}); d.Error != nil {
		t.Fatal(d.Error)
	}
	if r := h.appendTo(u5, 11, 12); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrTableDropped) {
		t.Fatalf("append to a dropped collection: %v", r.Error)
	}
	if c := h.createCollection(u5, accounts, nil); !errors.Is(messages.ErrorFromWire(c.Error), messages.ErrAlreadyExists) {
		t.Fatalf("reuse of a dropped collection's id: %v", c.Error)
	}
}

// A subscription to a collection gets each append's versions and the
// collection's own upper as progress; table commits do not reach it.
func TestCollectionCdc(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	if c := h.createCollection(u5, accounts, nil); c.Error != nil {
		t.Fatal(c.Error)
	}
	if r := h.appendTo(u5, 0, 2, upd(row(i64(1), str("a")), 1, 1)); r.Error != nil {
		t.Fatal(r.Error)
	}
	live := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, live, &messages.StorageSubscribe{SubscriptionId: "c", Tables: wireIds([]timely.GlobalId{u5}), From: 0}); r.Error != nil || !upperFrom(t, r.Upper).Equal(timely.At(2)) {
		t.Fatalf("subscribe: %v", r)
	}
	if v, _ := expectBatch(t, live, "c"); v != 1 {
		t.Fatalf("replayed version %d, want 1", v)
	}
	if got := expectProgress(t, live, "c"); !got.Equal(timely.At(2)) {
		t.Fatalf("progress %s, want 2", got)
	}
	h.mustWrite(write(rows(u1, row(i64(9), str("t")))))
	live.ExpectNoMsg(quiet)

	// Two updates of one row at one time consolidate; a time without a
	// net change sends no batch.
	if r := h.appendTo(u5, 2, 6,
		upd(row(i64(2), str("b")), 3, 1), upd(row(i64(2), str("b")), 3, 1),
		upd(row(i64(3), str("c")), 4, 1), upd(row(i64(3), str("c")), 4, -1),
		upd(row(i64(1), str("a")), 5, -1)); r.Error != nil {
		t.Fatal(r.Error)
	}
	if v, ch := expectBatch(t, live, "c"); v != 3 || ch != `map[u5:map[(2, "b"):2]]` {
		t.Fatalf("batch %d %s", v, ch)
	}
	if v, ch := expectBatch(t, live, "c"); v != 5 || ch != `map[u5:map[(1, "a"):-1]]` {
		t.Fatalf("batch %d %s", v, ch)
	}
	if got := expectProgress(t, live, "c"); !got.Equal(timely.At(6)) {
		t.Fatalf("progress %s, want 6", got)
	}

	// A collection is subscribed alone: its progress is its own.
	mixed := ask[*messages.StorageSubscribeResponse](h, &messages.StorageSubscribe{SubscriptionId: "m", Tables: wireIds([]timely.GlobalId{u1, u5})})
	if !errors.Is(messages.ErrorFromWire(mixed.Error), storage.ErrWrongKind) {
		t.Fatalf("subscription to a table and a collection: %v", mixed.Error)
	}

	if d := ask[*messages.StorageDropTableResponse](h, &messages.StorageDropTable{Table: messages.FromGlobalId(u5)}); d.Error != nil {
		t.Fatal(d.Error)
	}
	testkit.ExpectMsg[*messages.StorageCdcTableDropped](live, timeout)
}

func upperFrom(t *testing.T, f *messages.Frontier) timely.Frontier {
	t.Helper()
	tf, err := f.ToTimely()
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

func TestCollectionBadInput(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	if c := h.createCollection(u5, accounts, nil); c.Error != nil {
		t.Fatal(c.Error)
	}
	cases := []struct {
		name string
		resp *messages.StorageAppendResponse
		want error
		says string
	}{
		{"unknown collection", h.appendTo(u3, 0, 1), storage.ErrUnknownTable, "u3"},
		{"append to a table", h.appendTo(u1, 0, 1), storage.ErrWrongKind, "u1"},
		{"empty range", h.appendTo(u5, 0, 0), storage.ErrMalformed, "new upper"},
		{"time outside the range", h.appendTo(u5, 0, 2, upd(row(i64(1), dataflow.Null()), 2, 1)), storage.ErrMalformed, "time 2"},
		{"zero diff", h.appendTo(u5, 0, 2, upd(row(i64(1), dataflow.Null()), 1, 0)), storage.ErrMalformed, "diff is 0"},
		{"wrong type", h.appendTo(u5, 0, 2, upd(row(i64(1), dataflow.Null()), 0, 1), upd(row(str("x"), dataflow.Null()), 1, 1)), storage.ErrInvalidRow, "row 1"},
		{"null in a non-null column", h.appendTo(u5, 0, 2, upd(row(dataflow.Null(), str("a")), 0, 1)), storage.ErrInvalidRow, "id"},
		{"no collection", ask[*messages.StorageAppendResponse](h, &messages.StorageAppend{NewUpper: 1}), storage.ErrMalformed, "missing"},
	}
	for _, c := range cases {
		err := messages.ErrorFromWire(c.resp.Error)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %v naming %q", c.name, err, c.want, c.says)
		}
	}
	// Nothing of the refused appends was written.
	if got := h.collectionUpper(u5); !got.Equal(timely.At(0)) {
		t.Fatalf("upper after refused appends: %s", got)
	}
	// A collection is not written with StorageWrite.
	if w := h.write(write(rows(u5, row(i64(1), dataflow.Null())))); !errors.Is(messages.ErrorFromWire(w.Error), storage.ErrWrongKind) {
		t.Fatalf("write to a collection: %v", w.Error)
	}
	bad := ask[*messages.StorageCreateCollectionResponse](h, &messages.StorageCreateCollection{Collection: messages.FromGlobalId(u2)})
	if !errors.Is(messages.ErrorFromWire(bad.Error), storage.ErrMalformed) {
		t.Fatalf("collection without a schema: %v", bad.Error)
	}
}

func TestPebbleCollectionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, storage.Config{Store: openPebble(t, dir)})
	t.Cleanup(func() { _ = h.store.Close() })
	h.createTable(u1, accounts)
	if c := h.createCollection(u5, accounts, nil); c.Error != nil {
		t.Fatal(c.Error)
	}
	if c := h.createCollection(u2, accounts, nil); c.Error != nil {
		t.Fatal(c.Error)
	}
	h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	if r := h.appendTo(u5, 0, 7, upd(row(i64(9), str("z")), 3, 1)); r.Error != nil {
		t.Fatal(r.Error)
	}
	if d := ask[*messages.StorageDropTableResponse](h, &messages.StorageDropTable{Table: messages.FromGlobalId(u2)}); d.Error != nil {
		t.Fatal(d.Error)
	}
	tables := h.upper()

	h.restartPebble(dir)

	if got := h.collectionUpper(u5); !got.Equal(timely.At(7)) {
		t.Fatalf("collection upper after restart %s, want 7", got)
	}
	if got := h.upper(); !got.Equal(tables) {
		t.Fatalf("tables' upper after restart %s, want %s (collections take no part in it)", got, tables)
	}
	if got := strings.Join(tableRows(t, h.snapshot(proto.Uint64(6), u5), u5), " "); got != `(9, "z")x1` {
		t.Fatalf("collection after restart: %s", got)
	}
	if r := h.appendTo(u5, 0, 8); !upperOf(t, r).Equal(timely.At(7)) {
		t.Fatalf("stale append after restart: %v", r)
	}
	if r := h.appendTo(u5, 7, 8); r.Error != nil {
		t.Fatal(r.Error)
	}
	if r := h.appendTo(u2, 0, 1); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrTableDropped) {
		t.Fatalf("dropped collection after restart: %v", r.Error)
	}
	h.mustWrite(write(rows(u1, row(i64(2), str("b")))))
}

// A failed collection append restarts the actor (its outcome is unknown);
// the restart keeps the collection's subscription, resumed at the
// collection's own upper, and the writer learns the upper from its next
// append.
func TestCollectionAppendFailureRestarts(t *testing.T) {
	store := &flakyStore{Store: mem.New(), target: storage.ShardName(u5)}
	h := newHarness(t, storage.Config{Store: store})
	t.Cleanup(func() { _ = store.Close() })
	h.createTable(u1, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	if c := h.createCollection(u5, accounts, nil); c.Error != nil {
		t.Fatal(c.Error)
	}
	c := testkit.NewProbe(t, h.sys)
	if r := subscribe(h, c, &messages.StorageSubscribe{SubscriptionId: "c", Tables: wireIds([]timely.GlobalId{u5})}); r.Error != nil {
		t.Fatal(r.Error)
	}
	expectProgress(t, c, "c")

	store.fail.Store(true)
	if r := h.appendTo(u5, 0, 3, upd(row(i64(1), str("x")), 1, 1)); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrBackend) {
		t.Fatalf("append during a backend failure: %v", r.Error)
	}
	// Resumed at the collection's upper (the failed append did not land).
	if got := expectProgress(t, c, "c"); !got.Equal(timely.At(0)) {
		t.Fatalf("resumed progress %s, want the collection's upper 0", got)
	}
	if r := h.appendTo(u5, 0, 3, upd(row(i64(1), str("x")), 1, 1)); r.Error != nil {
		t.Fatal(r.Error)
	}
	if v, _ := expectBatch(t, c, "c"); v != 1 {
		t.Fatalf("batch at %d, want 1", v)
	}
	if got := expectProgress(t, c, "c"); !got.Equal(timely.At(3)) {
		t.Fatalf("progress %s, want 3", got)
	}
}

// TestFrontiersNameCollections checks that frontiers tell a collection
// from a table and carry its schema (a reader checks both), and that
// StorageFrontiers{collections} lists live collections with the tables.
func TestFrontiersNameCollections(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	if c := h.createCollection(u5, accounts, nil); c.Error != nil {
		t.Fatal(c.Error)
	}
	r := ask[*messages.StorageFrontiersResponse](h, &messages.StorageFrontiers{Tables: []*messages.GlobalId{messages.FromGlobalId(u1), messages.FromGlobalId(u5)}})
	if r.Error != nil || len(r.Tables) != 2 {
		t.Fatalf("frontiers: %v", r)
	}
	for _, tf := range r.Tables {
		id, _ := tf.GetTable().ToTimely()
		if tf.GetCollection() != (id == u5) {
			t.Errorf("%s: collection flag %t", id, tf.GetCollection())
		}
		schema, err := dataflow.SchemaFromWire(tf.GetSchema())
		if err != nil || !slices.Equal(schema, accounts) {
			t.Errorf("%s: schema %v (%v), want %v", id, schema, err, accounts)
		}
	}
	only := ask[*messages.StorageFrontiersResponse](h, &messages.StorageFrontiers{})
	if len(only.Tables) != 1 {
		t.Fatalf("frontiers of every table lists %d entries, want the table only: %v", len(only.Tables), only)
	}
	all := ask[*messages.StorageFrontiersResponse](h, &messages.StorageFrontiers{Collections: true})
	if len(all.Tables) != 2 || !all.Tables[1].GetCollection() {
		t.Fatalf("frontiers with collections: %v", all)
	}
}
