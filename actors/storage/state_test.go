package storage

import (
	"fmt"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

var (
	tA = timely.UserId(1)
	tB = timely.UserId(2)
)

var schema = dataflow.Schema{{Name: "k", Type: dataflow.TypeInt64}}

// newTestState returns a State with tables A and B at upper, sinces 0.
func newTestState(upper timely.Timestamp, window uint64) *State {
	return NewState([]TableInfo{{Id: tA, Schema: schema}, {Id: tB, Schema: schema}}, timely.At(upper), window)
}

// stage decodes and stages a write of (table, key, diff) triples.
func stage(t *testing.T, s *State, token string, changes ...any) {
	t.Helper()
	m := &messages.StorageWrite{}
	for i := 0; i < len(changes); i += 3 {
		m.Tables = append(m.Tables, &messages.StorageTableWrite{
			Table: messages.FromGlobalId(changes[i].(timely.GlobalId)),
			Rows: []*messages.StorageRowDiff{{
				Row:  dataflow.RowToWire(dataflow.Row{dataflow.Int64(int64(changes[i+1].(int)))}),
				Diff: proto.Int64(int64(changes[i+2].(int))),
			}},
		})
	}
	w, err := s.DecodeWrite(m)
	if err != nil {
		t.Fatal(err)
	}
	s.Stage(w, token)
}

func TestPlanCommit(t *testing.T) {
	s := newTestState(10, 0)
	if _, ok := s.PlanCommit(5); ok {
		t.Fatal("commit with nothing staged")
	}

	// One table changed: no log; the clock is behind the upper.
	stage(t, s, "w1", tA, 1, 1)
	stage(t, s, "w2", tA, 2, 1, tA, 1, 1)
	c, _ := s.PlanCommit(5)
	if c.Ts != 10 || c.Lower != timely.At(10) || c.Upper != timely.At(11) {
		t.Fatalf("ts %d [%s, %s)", c.Ts, c.Lower, c.Upper)
	}
	if c.UseLog || len(c.Log) != 0 || len(c.Appends) != 2 || fmt.Sprint(c.Tokens) != "[w1 w2]" || c.Rows != 3 {
		t.Fatalf("one-table commit: %+v", c)
	}
	if a := c.Appends[0]; a.Table != tA || len(a.Updates) != 2 || len(c.Appends[1].Updates) != 0 {
		t.Fatalf("appends %+v", c.Appends)
	}
	s.ApplyCommit(c)
	if s.Upper() != timely.At(11) || s.Pending() != 0 {
		t.Fatalf("upper %s pending %d", s.Upper(), s.Pending())
	}

	// Two tables: the log carries the group.
	stage(t, s, "w3", tA, 3, 1, tB, 3, 1)
	c, _ = s.PlanCommit(100)
	if c.Ts != 100 || !c.UseLog || len(c.Log) != 2 {
		t.Fatalf("two-table commit: ts %d log %v", c.Ts, c.Log)
	}
	s.ApplyCommit(c)

	// The next logged group retracts the previous one's entries.
	stage(t, s, "w4", tA, 4, 1, tB, 4, 1)
	c, _ = s.PlanCommit(100)
	if c.Ts != 101 || len(c.Log) != 4 {
		t.Fatalf("log %v", c.Log)
	}
	var sum int64
	for _, u := range c.Log {
		sum += u.Diff
		if u.Ts != 101 {
			t.Fatalf("log entry at %d", u.Ts)
		}
	}
	if sum != 0 { // two retractions, two insertions
		t.Fatalf("log diffs sum to %d", sum)
	}
	s.ApplyCommit(c)

	// Changes that cancel out leave no table changed.
	stage(t, s, "w5", tA, 9, 1, tB, 9, 1)
	stage(t, s, "w6", tA, 9, -1, tB, 9, -1)
	c, _ = s.PlanCommit(0)
	if c.UseLog || len(c.changes) != 0 || len(c.Appends[0].Updates)+len(c.Appends[1].Updates) != 0 {
		t.Fatalf("cancelled group: %+v", c)
	}
}

func TestCompactionTargets(t *testing.T) {
	owner := actor.NewPID("local", "consumer")
	cases := []struct {
		name   string
		window uint64
		holds  map[string][]any // id -> tables..., at
		want   string
	}{
		{"no holds", 0, nil, "[{u1 19} {u2 19}]"},
		{"window", 5, nil, "[{u1 14} {u2 14}]"},
		{"window larger than history", 50, nil, "[]"},
		{"hold on one table", 0, map[string][]any{"h": {[]timely.GlobalId{tA}, timely.Timestamp(12)}}, "[{u1 12} {u2 19}]"},
		{"hold on every table", 0, map[string][]any{"h": {[]timely.GlobalId(nil), timely.Timestamp(12)}}, "[{u1 12} {u2 12}]"},
		{"least hold wins", 0, map[string][]any{
			"h1": {[]timely.GlobalId{tA}, timely.Timestamp(15)},
			"h2": {[]timely.GlobalId{tA, tB}, timely.Timestamp(13)},
		}, "[{u1 13} {u2 13}]"},
		{"hold beyond window", 5, map[string][]any{"h": {[]timely.GlobalId{tA}, timely.Timestamp(18)}}, "[{u1 14} {u2 14}]"},
		{"read pin", 0, map[string][]any{"pin": {[]timely.GlobalId{tB}, timely.Timestamp(11)}}, "[{u1 19} {u2 11}]"},
		{"released read pin", 0, map[string][]any{"unpinned": {[]timely.GlobalId{tB}, timely.Timestamp(11)}}, "[{u1 19} {u2 19}]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestState(20, c.window)
			for id, h := range c.holds {
				switch id {
				case "pin":
					s.PinRead(h[0].([]timely.GlobalId), h[1].(timely.Timestamp))
				case "unpinned":
					s.UnpinRead(s.PinRead(h[0].([]timely.GlobalId), h[1].(timely.Timestamp)))
				default:
					if err := s.AcquireHold(id, owner, h[0].([]timely.GlobalId), h[1].(timely.Timestamp)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := fmt.Sprint(s.CompactionTargets()); got != c.want {
				t.Fatalf("targets %s, want %s", got, c.want)
			}
		})
	}
}

func TestHoldsFollowTheirOwner(t *testing.T) {
	a, b := actor.NewPID("local", "a"), actor.NewPID("local", "b")
	s := newTestState(20, 0)
	if err := s.AcquireHold("ha", a, nil, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.AcquireHold("hb", b, nil, 8); err != nil {
		t.Fatal(err)
	}
	s.AddSubscription("sa", a, []timely.GlobalId{tB}, 3, false)
	if got := fmt.Sprint(s.CompactionTargets()); got != "[{u1 5} {u2 3}]" {
		t.Fatalf("targets %s", got)
	}
	if !s.ReleaseOwner(a) || s.ReleaseOwner(a) {
		t.Fatal("ReleaseOwner should report a change once")
	}
	if got := fmt.Sprint(s.CompactionTargets()); got != "[{u1 8} {u2 8}]" {
		t.Fatalf("targets after owner a left %s", got)
	}
	if len(s.Subscriptions()) != 0 {
		t.Fatal("subscription of a survived")
	}
	// Applied sinces stop further targets at the same place.
	s.ApplySince(tA, 8)
	s.ApplySince(tB, 8)
	if got := s.CompactionTargets(); len(got) != 0 {
		t.Fatalf("targets after applying %v", got)
	}
}

func TestDecodeWriteMergesEntriesOfOneTable(t *testing.T) {
	s := newTestState(0, 0)
	stage(t, s, "w", tB, 1, 1, tA, 2, 1, tB, 3, 1)
	w := s.pending[0].write
	if len(w.tables) != 2 || w.tables[0].table != tA || len(w.tables[1].rows) != 2 || w.Rows() != 3 {
		t.Fatalf("write %+v", w)
	}
}

// A collection compacts by its own upper (not the tables'), and read holds
// bound it like a table's.
func TestCollectionCompactionFollowsItsOwnUpper(t *testing.T) {
	tC := timely.UserId(3)
	s := NewState([]TableInfo{{Id: tA, Schema: schema}, {Id: tC, Schema: schema, Collection: true, Upper: timely.At(0)}}, timely.At(100), 0)
	ap, _, err := s.DecodeAppend(&messages.StorageAppend{Collection: messages.FromGlobalId(tC), ExpectedUpper: 0, NewUpper: 10})
	if err != nil {
		t.Fatal(err)
	}
	s.ApplyAppend(ap)
	targets := map[timely.GlobalId]timely.Timestamp{}
	for _, ch := range s.CompactionTargets() {
		targets[ch.Table] = ch.Since
	}
	if targets[tA] != 99 || targets[tC] != 9 {
		t.Fatalf("compaction targets %v, want table at 99 and collection at 9", targets)
	}
	if err := s.AcquireHold("h", nil, []timely.GlobalId{tC}, 4); err != nil {
		t.Fatal(err)
	}
	for _, ch := range s.CompactionTargets() {
		if ch.Table == tC && ch.Since != 4 {
			t.Fatalf("collection compacts to %d past its hold at 4", ch.Since)
		}
	}
	if got := s.LiveTables(); len(got) != 1 || got[0] != tA {
		t.Fatalf("live tables %v include the collection", got)
	}
}

// A hold or subscription on every table (an empty list) holds no
// collection: a consumer of the tables' CDC must not hold back the
// compaction of a materialized view's collection it does not read.
func TestEveryTableHoldsNoCollection(t *testing.T) {
	tC := timely.UserId(3)
	owner := actor.NewPID("local", "consumer")
	s := NewState([]TableInfo{{Id: tA, Schema: schema}, {Id: tC, Schema: schema, Collection: true, Upper: timely.At(0)}}, timely.At(100), 0)
	ap, _, err := s.DecodeAppend(&messages.StorageAppend{Collection: messages.FromGlobalId(tC), ExpectedUpper: 0, NewUpper: 10})
	if err != nil {
		t.Fatal(err)
	}
	s.ApplyAppend(ap)
	if err := s.AcquireHold("all", owner, nil, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckSubscribe("sub", nil, 3, false); err != nil {
		t.Fatal(err)
	}
	s.AddSubscription("sub", owner, nil, 3, false)
	targets := map[timely.GlobalId]timely.Timestamp{}
	for _, ch := range s.CompactionTargets() {
		targets[ch.Table] = ch.Since
	}
	if targets[tA] != 2 || targets[tC] != 9 {
		t.Fatalf("compaction targets %v, want the table held at 2 and the collection free to 9", targets)
	}
	// Naming the collection holds it.
	if err := s.AcquireHold("named", owner, []timely.GlobalId{tC}, 5); err != nil {
		t.Fatal(err)
	}
	for _, ch := range s.CompactionTargets() {
		if ch.Table == tC && ch.Since != 5 {
			t.Fatalf("collection compacts to %d past its named hold at 5", ch.Since)
		}
	}
}
