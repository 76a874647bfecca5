package storage_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// contents returns the upper and every live table's rows at the latest
// complete time, to check that a rejected request wrote nothing.
func contents(h *harness) string {
	h.t.Helper()
	var b strings.Builder
	b.WriteString(h.upper().String())
	r := h.snapshot(nil)
	if r.Error != nil {
		return b.String() + " " + r.Error.Message
	}
	for _, tc := range r.Tables {
		id, _ := tc.Table.ToTimely()
		b.WriteString(" " + id.String() + ":" + strings.Join(rowStrings(h.t, tc.Rows), ","))
	}
	return b.String()
}

func TestBadWritesAreRejectedWhole(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	before := contents(h)

	good := rows(u2, row(i64(7), str("fine")))
	cases := []struct {
		name  string
		w     *messages.StorageWrite
		code  error
		names []string // substrings the error must contain
	}{
		{"wrong type", write(good, rows(u1, row(i64(2), str("b")), row(str("x"), str("c")))),
			storage.ErrInvalidRow, []string{"table u1 row 1", `"id"`, "int64", "string"}},
		{"null in non-null column", write(rows(u1, row(dataflow.Null(), str("c"))), good),
			storage.ErrInvalidRow, []string{"table u1 row 0", `"id"`, "NULL"}},
		{"null allowed, wrong arity", write(rows(u1, row(i64(3), dataflow.Null()), row(i64(4)))),
			storage.ErrInvalidRow, []string{"table u1 row 1", "1 columns", "schema has 2"}},
		{"too many columns", write(rows(u1, row(i64(3), str("x"), str("y")))),
			storage.ErrInvalidRow, []string{"table u1 row 0", "3 columns"}},
		{"unknown table", write(good, rows(u3, row(i64(1), str("a")))),
			storage.ErrUnknownTable, []string{"u3"}},
		{"no tables", write(), storage.ErrMalformed, []string{"no table"}},
		{"missing table id", write(&messages.StorageTableWrite{}), storage.ErrMalformed, []string{"entry 0"}},
		{"bad table id", write(&messages.StorageTableWrite{Table: &messages.GlobalId{Value: 1}}), storage.ErrMalformed, []string{"entry 0"}},
		{"missing row", write(&messages.StorageTableWrite{Table: messages.FromGlobalId(u1), Rows: []*messages.StorageRowDiff{nil}}),
			storage.ErrMalformed, []string{"table u1 row 0"}},
		{"datum without value", write(&messages.StorageTableWrite{Table: messages.FromGlobalId(u1), Rows: []*messages.StorageRowDiff{
			{Row: &messages.Row{Datums: []*messages.Datum{{}, {}}}}}}),
			storage.ErrMalformed, []string{"table u1 row 0", "datum 0"}},
		{"zero diff", write(&messages.StorageTableWrite{Table: messages.FromGlobalId(u1), Rows: []*messages.StorageRowDiff{
			{Row: dataflow.RowToWire(row(i64(1), str("a"))), Diff: proto.Int64(0)}}}),
			storage.ErrMalformed, []string{"table u1 row 0", "diff is 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.write(c.w)
			err := messages.ErrorFromWire(r.Error)
			if !errors.Is(err, c.code) {
				t.Fatalf("error %v, want %v", err, c.code)
			}
			for _, s := range c.names {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if r.Timestamp != 0 {
				t.Errorf("rejected write has timestamp %d", r.Timestamp)
			}
			if after := contents(h); after != before {
				t.Fatalf("a rejected write changed storage:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	if got := counterValue(t, h.reg, "arbor_storage_rejected_writes_total"); got != float64(len(cases)) {
		t.Errorf("rejected writes metric %v, want %d", got, len(cases))
	}
}

func TestDroppedTable(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.createTable(u2, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	r := ask[*messages.StorageDropTableResponse](h, &messages.StorageDropTable{Table: messages.FromGlobalId(u1)})
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	before := contents(h)

	w := h.write(write(rows(u2, row(i64(2), str("b"))), rows(u1, row(i64(2), str("b")))))
	if err := messages.ErrorFromWire(w.Error); !errors.Is(err, storage.ErrTableDropped) || !strings.Contains(err.Error(), "u1") {
		t.Fatalf("write to dropped table: %v", err)
	}
	if after := contents(h); after != before {
		t.Fatalf("rejected write changed storage: %s -> %s", before, after)
	}
	// Reads, drops and creates of the dropped table fail too.
	if s := h.snapshot(nil, u1); !errors.Is(messages.ErrorFromWire(s.Error), storage.ErrTableDropped) {
		t.Fatalf("snapshot of dropped table: %v", s.Error)
	}
	d := ask[*messages.StorageDropTableResponse](h, &messages.StorageDropTable{Table: messages.FromGlobalId(u1)})
	if !errors.Is(messages.ErrorFromWire(d.Error), storage.ErrTableDropped) {
		t.Fatalf("second drop: %v", d.Error)
	}
	c := ask[*messages.StorageCreateTableResponse](h, &messages.StorageCreateTable{Table: messages.FromGlobalId(u1), Schema: dataflow.SchemaToWire(accounts)})
	if err := messages.ErrorFromWire(c.Error); !errors.Is(err, storage.ErrTableExists) || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("re-create dropped table: %v", err)
	}
	// The dropped table no longer counts among the tables.
	f := h.frontiers()
	if len(f.Tables) != 1 {
		t.Fatalf("frontiers list %d tables after the drop", len(f.Tables))
	}
	// Its shard's upper is closed.
	sh, err := h.store.OpenShard(t.Context(), storage.ShardName(u1))
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	if up, _ := sh.Upper(t.Context()); !up.IsEmpty() {
		t.Fatalf("dropped table's shard upper %s, want closed", up)
	}
}

func TestBadTableRequests(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	before := contents(h)
	cases := []struct {
		name string
		msg  *messages.StorageCreateTable
		code error
		want string
	}{
		{"duplicate", &messages.StorageCreateTable{Table: messages.FromGlobalId(u1), Schema: dataflow.SchemaToWire(accounts)}, storage.ErrTableExists, "u1 already exists"},
		{"missing id", &messages.StorageCreateTable{Schema: dataflow.SchemaToWire(accounts)}, storage.ErrMalformed, "table id is missing"},
		{"missing schema", &messages.StorageCreateTable{Table: messages.FromGlobalId(u2)}, storage.ErrMalformed, "schema is missing"},
		{"no columns", &messages.StorageCreateTable{Table: messages.FromGlobalId(u2), Schema: &messages.Schema{}}, storage.ErrMalformed, "no columns"},
		{"bad type", &messages.StorageCreateTable{Table: messages.FromGlobalId(u2), Schema: &messages.Schema{Columns: []*messages.Column{{Name: "a"}}}}, storage.ErrMalformed, "column 0"},
		{"duplicate column", &messages.StorageCreateTable{Table: messages.FromGlobalId(u2), Schema: dataflow.SchemaToWire(dataflow.Schema{
			{Name: "a", Type: dataflow.TypeInt64}, {Name: "a", Type: dataflow.TypeBool}})}, storage.ErrMalformed, `named "a"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ask[*messages.StorageCreateTableResponse](h, c.msg)
			err := messages.ErrorFromWire(r.Error)
			if !errors.Is(err, c.code) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %v naming %q", err, c.code, c.want)
			}
			if after := contents(h); after != before {
				t.Fatalf("storage changed: %s -> %s", before, after)
			}
		})
	}
	if f := h.frontiers(); len(f.Tables) != 1 {
		t.Fatalf("%d tables after failed creates", len(f.Tables))
	}
	// The duplicate create kept the original schema: a row of it is accepted.
	h.mustWrite(write(rows(u1, row(i64(2), dataflow.Null()))))
}

func TestBadReadRequests(t *testing.T) {
	h := newHarness(t, storage.Config{})
	h.createTable(u1, accounts)
	if r := h.snapshot(nil, u1); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrNotYetReadable) {
		t.Fatalf("snapshot before any write: %v", r.Error)
	}
	ts := h.mustWrite(write(rows(u1, row(i64(1), str("a")))))
	later := uint64(ts + 1)
	if r := h.snapshot(&later, u1); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrNotYetReadable) {
		t.Fatalf("snapshot at the upper: %v", r.Error)
	}
	if r := h.snapshot(nil, u1, u3); !errors.Is(messages.ErrorFromWire(r.Error), storage.ErrUnknownTable) {
		t.Fatalf("snapshot of unknown table: %v", r.Error)
	}
	rr := ask[*messages.StorageReadRangeResponse](h, &messages.StorageReadRange{Tables: wireIds([]timely.GlobalId{u3}), Lo: 0, Hi: 10})
	if !errors.Is(messages.ErrorFromWire(rr.Error), storage.ErrUnknownTable) {
		t.Fatalf("range of unknown table: %v", rr.Error)
	}
	sub := ask[*messages.StorageSubscribeResponse](h, &messages.StorageSubscribe{SubscriptionId: "", From: 0})
	if !errors.Is(messages.ErrorFromWire(sub.Error), storage.ErrMalformed) {
		t.Fatalf("subscribe without id: %v", sub.Error)
	}
	hold := ask[*messages.StorageReadHoldResponse](h, &messages.StorageDowngradeReadHold{HoldId: "nope", At: 3})
	if !errors.Is(messages.ErrorFromWire(hold.Error), storage.ErrUnknownId) {
		t.Fatalf("downgrade unknown hold: %v", hold.Error)
	}
}

// A request of a type storage does not handle is answered at once with a
// decodable UNKNOWN_MESSAGE error, and storage keeps serving.
func TestUnknownRequestIsAnswered(t *testing.T) {
	h := newHarness(t, storage.Config{})
	r := ask[*messages.UnknownMessageReply](h, &messages.Timestamp{Millis: 1})
	if r.GetError().GetCode() != messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE || r.GetType() != "arbor.messages.Timestamp" {
		t.Fatalf("reply to an unknown request: %v", r)
	}
	h.frontiers()
}
