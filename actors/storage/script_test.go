package storage

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// TestScripts runs the scripts in testdata against a State: group commit
// planning, CDC deliveries, read holds and compaction, step by step. Every
// table has one int64 column "k". Regenerate with -rewrite.
//
//	init upper=<t> [window=<n>]
//	create <id>... [append-only]   drop <id>
//	write token=<name>      input: one "<table> <k> <diff>" per line
//	commit now=<t>          plans, prints, applies, prints deliveries
//	subscribe id=<s> owner=<o> from=<t> [tables=(<id>...)] [follow]
//	hold id=<h> owner=<o> at=<t> [tables=(<id>...)]
//	downgrade id=<h> at=<t>     release id=<h>     unsubscribe id=<s>
//	terminate owner=<o>     compact     frontiers
//	create-collection <id> [lower=<t>]
//	append <id> expected=<t> upper=<t>
//	                        input: one "<time> <k> <diff>" per line;
//	                        prints the outcome and the deliveries
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		sc := &script{owners: map[string]*actor.PID{}}
		datadriven.RunTest(t, path, sc.run)
	})
}

type script struct {
	s      *State
	owners map[string]*actor.PID
}

func (sc *script) owner(name string) *actor.PID {
	if p, ok := sc.owners[name]; ok {
		return p
	}
	p := actor.NewPID("local", name)
	sc.owners[name] = p
	return p
}

func arg(d *datadriven.TestData, key string) string {
	a, ok := d.Arg(key)
	if !ok || len(a.Vals) == 0 {
		return ""
	}
	return a.Vals[0]
}

func argTime(t *testing.T, d *datadriven.TestData, key string) timely.Timestamp {
	v, err := strconv.ParseUint(arg(d, key), 10, 64)
	if err != nil {
		t.Fatalf("%s: %s=%q: %v", d.Pos, key, arg(d, key), err)
	}
	return timely.Timestamp(v)
}

func argIds(t *testing.T, d *datadriven.TestData, key string) []timely.GlobalId {
	a, ok := d.Arg(key)
	if !ok {
		return nil
	}
	return parseIds(t, a.Vals)
}

func parseIds(t *testing.T, vals []string) []timely.GlobalId {
	var out []timely.GlobalId
	for _, v := range vals {
		id, err := timely.ParseGlobalId(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func result(err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return "ok\n"
}

func (sc *script) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "init":
		window, _ := strconv.ParseUint(arg(d, "window"), 10, 64)
		sc.s = NewState(nil, timely.At(argTime(t, d, "upper")), window)
		return "ok\n"
	case "create":
		var b strings.Builder
		appendOnly := d.HasArg("append-only")
		var ids []string
		for _, k := range cmdKeys(d) {
			if k != "append-only" {
				ids = append(ids, k)
			}
		}
		for _, id := range parseIds(t, ids) {
			err := sc.s.CheckCreate(id, schema)
			if err == nil {
				sc.s.CreateTable(id, schema, appendOnly)
			}
			b.WriteString(result(err))
		}
		return b.String()
	case "drop":
		id := parseIds(t, cmdKeys(d))[0]
		if err := sc.s.CheckDrop(id); err != nil {
			return result(err)
		}
		return "ok\n" + sc.deliveries(sc.s.DropTable(id))
	case "write":
		m := &messages.StorageWrite{}
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			f := strings.Fields(line)
			k, _ := strconv.ParseInt(f[1], 10, 64)
			diff, _ := strconv.ParseInt(f[2], 10, 64)
			id := parseIds(t, f[:1])[0]
			m.Tables = append(m.Tables, &messages.StorageTableWrite{Table: messages.FromGlobalId(id), Rows: []*messages.StorageRowDiff{
				{Row: dataflow.RowToWire(dataflow.Row{dataflow.Int64(k)}), Diff: proto.Int64(diff)},
			}})
		}
		w, err := sc.s.DecodeWrite(m)
		if err == nil {
			sc.s.Stage(w, arg(d, "token"))
		}
		return result(err)
	case "commit":
		c, ok := sc.s.PlanCommit(argTime(t, d, "now"))
		if !ok {
			return "nothing staged\n"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "commit ts=%d [%s, %s) writers=%v log=%v\n", c.Ts, c.Lower, c.Upper, c.Tokens, logSummary(c))
		for _, ap := range c.Appends {
			fmt.Fprintf(&b, "  append %s:%s\n", ap.Table, updatesSummary(ap.Updates))
		}
		b.WriteString(sc.deliveries(sc.s.ApplyCommit(c)))
		return b.String()
	case "subscribe":
		id, from := arg(d, "id"), argTime(t, d, "from")
		ids := argIds(t, d, "tables")
		if _, err := sc.s.CheckSubscribe(id, ids, from, false); err != nil {
			return result(err)
		}
		sc.s.AddSubscription(id, sc.owner(arg(d, "owner")), ids, from, d.HasArg("follow"))
		return "ok\n"
	case "create-collection":
		id := parseIds(t, cmdKeys(d))[0]
		if err := sc.s.CheckCreate(id, schema); err != nil {
			return result(err)
		}
		var lower timely.Timestamp
		if d.HasArg("lower") {
			lower = argTime(t, d, "lower")
		}
		sc.s.CreateCollection(id, schema, lower)
		return "ok\n"
	case "append":
		id := parseIds(t, cmdKeys(d))[0]
		m := &messages.StorageAppend{Collection: messages.FromGlobalId(id), ExpectedUpper: uint64(argTime(t, d, "expected")), NewUpper: uint64(argTime(t, d, "upper"))}
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				continue
			}
			ts, _ := strconv.ParseUint(f[0], 10, 64)
			k, _ := strconv.ParseInt(f[1], 10, 64)
			diff, _ := strconv.ParseInt(f[2], 10, 64)
			m.Updates = append(m.Updates, &messages.StorageUpdate{Row: dataflow.RowToWire(dataflow.Row{dataflow.Int64(k)}), Time: ts, Diff: diff})
		}
		ap, cur, err := sc.s.DecodeAppend(m)
		if err != nil {
			out := result(err)
			if cur != nil {
				out += fmt.Sprintf("current upper %s\n", *cur)
			}
			return out
		}
		return "ok\n" + sc.deliveries(sc.s.ApplyAppend(ap))
	case "hold":
		return result(sc.s.AcquireHold(arg(d, "id"), sc.owner(arg(d, "owner")), argIds(t, d, "tables"), argTime(t, d, "at")))
	case "downgrade":
		return result(sc.s.DowngradeHold(arg(d, "id"), argTime(t, d, "at")))
	case "release":
		return result(sc.s.ReleaseHold(arg(d, "id")))
	case "unsubscribe":
		return result(sc.s.Unsubscribe(arg(d, "id")))
	case "terminate":
		return fmt.Sprintf("released=%v\n", sc.s.ReleaseOwner(sc.owner(arg(d, "owner"))))
	case "compact":
		var b strings.Builder
		for _, ch := range sc.s.CompactionTargets() {
			fmt.Fprintf(&b, "since %s -> %d\n", ch.Table, ch.Since)
			sc.s.ApplySince(ch.Table, ch.Since)
		}
		if b.Len() == 0 {
			return "nothing to compact\n"
		}
		return b.String()
	case "frontiers":
		var b strings.Builder
		for _, id := range append(sc.s.LiveTables(), sc.s.LiveCollections()...) {
			since, upper, _ := sc.s.Frontiers(id)
			fmt.Fprintf(&b, "%s since=%s upper=%s\n", id, since, upper)
		}
		fmt.Fprintf(&b, "cdc lag=%d\n", sc.s.CdcLag())
		return b.String()
	}
	t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	return ""
}

// cmdKeys returns the bare arguments of a command (create u1 u2).
func cmdKeys(d *datadriven.TestData) []string {
	var out []string
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 0 {
			out = append(out, a.Key)
		}
	}
	return out
}

func updatesSummary(ups []persistence.Update) string {
	if len(ups) == 0 {
		return " (empty)"
	}
	var b strings.Builder
	for _, u := range ups {
		row, _ := dataflow.DecodeRowKey(u.Key)
		fmt.Fprintf(&b, " %s%+d", row, u.Diff)
	}
	return b.String()
}

func logSummary(c *Commit) string {
	if !c.UseLog {
		return "none"
	}
	var ins, ret int
	for _, u := range c.Log {
		if u.Diff > 0 {
			ins++
		} else {
			ret++
		}
	}
	return fmt.Sprintf("+%d/-%d", ins, ret)
}

func (sc *script) deliveries(ds []Delivery) string {
	var b strings.Builder
	for _, d := range ds {
		switch m := d.Msg.(type) {
		case *messages.StorageCdcBatch:
			fmt.Fprintf(&b, "-> %s batch %s v=%d", d.To.Id, m.SubscriptionId, m.Batch.Version)
			for _, tc := range m.Batch.Tables {
				id, _ := tc.Table.ToTimely()
				fmt.Fprintf(&b, " %s:", id)
				for _, rd := range tc.Rows {
					row, _ := dataflow.RowFromWire(rd.Row)
					fmt.Fprintf(&b, "%s%+d", row, rd.GetDiff())
				}
			}
			b.WriteString("\n")
		case *messages.StorageCdcProgress:
			f, _ := m.Upper.ToTimely()
			fmt.Fprintf(&b, "-> %s progress %s %s\n", d.To.Id, m.SubscriptionId, f)
		case *messages.StorageCdcTableDropped:
			id, _ := m.Table.ToTimely()
			fmt.Fprintf(&b, "-> %s dropped %s %s\n", d.To.Id, m.SubscriptionId, id)
		default:
			fmt.Fprintf(&b, "-> %s %T\n", d.To.Id, m)
		}
	}
	return b.String()
}
