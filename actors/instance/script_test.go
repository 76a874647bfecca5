package instance

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestScripts runs the scripted scenarios in testdata/ against a Core.
// Each command prints the effects it caused, then "error: ..." when the
// core refused it. Invariants are checked after every command. Regenerate
// with `go test ./actors/instance -run TestScripts -rewrite` and review the
// diff like code.
//
// Ids: collections and replicas are written u<n>; peeks p<n>. The
// environment epoch is 1; replicas restart after 1s, at most twice.
//
//	storage id=<id> since=<t> upper=<t>          register a storage collection
//	storage-frontiers id=<id> since=<t> upper=<t>
//	dataflow exports=(<id>,...) [sources=(<id>,...)] [indexes=(<id>,...)] [as-of=<t>|as-of=none]
//	         [subscribe] [mv] [lag=<t>] [target=<replica>] [name=<s>]
//	policy ids=(<id>,...) lag=<t> | valid-from=<t>
//	drop ids=(<id>,...)
//	add-replica id=<replica> | remove-replica id=<replica>
//	fail-replica id=<replica> inc=<n>
//	frontiers replica=<r> id=<id> [write=<t>|write=closed] [input=<t>] [output=<t>] [inc=<n>] [env=<n>]
//	peek p=<n> id=<id> at=<t> [target=<r>] [timeout=<duration>]
//	cancel p=<n>
//	peek-response replica=<r> p=<n> (rows=<n> | error=<word> | canceled) [inc=<n>]
//	subscribe-batch replica=<r> id=<id> lower=<t> upper=<t|closed> [updates=(<t>,...)] [error=<word>] [inc=<n>]
//	hydrated replica=<r> ids=(<id>,...) [inc=<n>]
//	status-error replica=<r> code=<CODE> [id=<id>] [restarted] [inc=<n>]
//	hold id=<id> | downgrade hold=<n> to=<t|closed> | release hold=<n>
//	maintain [advance=<duration>]
//	stop | state | history
//	read-only                                    start over with a read-only core
//	allow-writes                                 lift read-only mode (promotion)
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/core", func(t *testing.T, path string) {
		h := newHarness(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out := h.run(t, d)
			if err := h.core.checkInvariants(); err != nil {
				t.Fatalf("%s: invariant broken: %v", d.Pos, err)
			}
			return out
		})
	})
}

type harness struct {
	core *Core
	now  time.Time
}

func newHarness(t *testing.T) *harness { return newHarnessOf(t, false) }

func newHarnessOf(t *testing.T, readOnly bool) *harness {
	core, err := NewCore(CoreConfig{
		Cluster: timely.ClusterId{Kind: timely.User, Value: 1}, ClusterName: "c", EnvironmentEpoch: 1, ReadOnly: readOnly,
		Restarts: func(timely.ReplicaId) replica.RestartTracker {
			return &replica.FixedRestarts{Backoff: time.Second, MaxRestarts: 2}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{core: core, now: time.UnixMilli(1_000_000).UTC()}
}

func gid(t *testing.T, s string) timely.GlobalId {
	t.Helper()
	id, err := timely.ParseGlobalId(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func rid(t *testing.T, s string) timely.ReplicaId {
	t.Helper()
	id, err := timely.ParseReplicaId(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func frontierArg(t *testing.T, d *datadriven.TestData, key string) timely.Frontier {
	t.Helper()
	var s string
	d.ScanArgs(t, key, &s)
	if s == "closed" {
		return timely.Closed()
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s: %s=%s: %v", d.Pos, key, s, err)
	}
	return timely.At(timely.Timestamp(n))
}

func intArg(t *testing.T, d *datadriven.TestData, key string) uint64 {
	t.Helper()
	var n uint64
	d.ScanArgs(t, key, &n)
	return n
}

func idsArg(t *testing.T, d *datadriven.TestData, key string) []timely.GlobalId {
	t.Helper()
	if !d.HasArg(key) {
		return nil
	}
	var ss []string
	d.ScanArgs(t, key, &ss)
	var out []timely.GlobalId
	for _, s := range ss {
		out = append(out, gid(t, s))
	}
	return out
}

func scriptPeekUuid(n uint64) timely.Uuid {
	var u timely.Uuid
	u[15] = byte(n)
	return u
}

// respond wraps a response in an envelope at the replica's current epoch,
// or at inc=/env= when given.
func (h *harness) respond(t *testing.T, d *datadriven.TestData, r timely.ReplicaId, resp *messages.ComputeResponse) error {
	inc, env := uint64(0), uint64(1)
	if rs := h.core.replicas[r]; rs != nil {
		inc = rs.incarnation
	}
	if d.HasArg("inc") {
		inc = intArg(t, d, "inc")
	}
	if d.HasArg("env") {
		env = intArg(t, d, "env")
	}
	resp.Epoch = &messages.ComputeEpoch{Environment: env, Incarnation: inc}
	resp.Replica = messages.FromReplicaId(r)
	return h.core.HandleResponse(h.now, r, resp)
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	var err error
	var extra string
	c := h.core
	switch d.Cmd {
	case "storage":
		err = c.RegisterStorage(StorageCollection{Id: gid(t, argString(t, d, "id")), Since: frontierArg(t, d, "since"), Upper: frontierArg(t, d, "upper")})
	case "unregister":
		err = c.UnregisterStorage(gid(t, argString(t, d, "id")))
	case "storage-frontiers":
		err = c.UpdateStorageFrontiers(gid(t, argString(t, d, "id")), frontierArg(t, d, "since"), frontierArg(t, d, "upper"))
	case "dataflow":
		desc := &messages.ComputeDataflowDescription{DebugName: "df"}
		if d.HasArg("name") {
			desc.DebugName = argString(t, d, "name")
		}
		if !d.HasArg("as-of") || argString(t, d, "as-of") != "none" {
			desc.AsOf = messages.FromFrontier(timely.At(0))
			if d.HasArg("as-of") {
				desc.AsOf = messages.FromFrontier(frontierArg(t, d, "as-of"))
			}
		}
		if d.HasArg("until") {
			desc.Until = messages.FromFrontier(frontierArg(t, d, "until"))
		}
		for _, id := range idsArg(t, d, "sources") {
			desc.SourceImports = append(desc.SourceImports, &messages.ComputeSourceImport{Id: messages.FromGlobalId(id)})
		}
		for _, id := range idsArg(t, d, "indexes") {
			desc.IndexImports = append(desc.IndexImports, &messages.ComputeIndexImport{Id: messages.FromGlobalId(id)})
		}
		for _, id := range idsArg(t, d, "exports") {
			switch {
			case d.HasArg("subscribe"):
				desc.SinkExports = append(desc.SinkExports, &messages.ComputeSinkExport{Id: messages.FromGlobalId(id),
					Connection: &messages.ComputeSinkExport_Subscribe{Subscribe: &messages.ComputeSubscribeSink{}}})
			case d.HasArg("mv"):
				desc.SinkExports = append(desc.SinkExports, &messages.ComputeSinkExport{Id: messages.FromGlobalId(id),
					Connection: &messages.ComputeSinkExport_MaterializedView{MaterializedView: &messages.ComputeMaterializedViewSink{}}})
			default:
				desc.IndexExports = append(desc.IndexExports, &messages.ComputeIndexExport{Id: messages.FromGlobalId(id), On: messages.FromGlobalId(id)})
			}
		}
		var opts DataflowOptions
		if d.HasArg("lag") {
			p := LagWriteFrontier(timely.Timestamp(intArg(t, d, "lag")))
			opts.ReadPolicy = &p
		}
		if d.HasArg("target") {
			r := rid(t, argString(t, d, "target"))
			opts.TargetReplica = &r
		}
		opts.Client = "client"
		err = c.CreateDataflow(desc, opts)
	case "policy":
		var p ReadPolicy
		switch {
		case d.HasArg("lag"):
			p = LagWriteFrontier(timely.Timestamp(intArg(t, d, "lag")))
		case d.HasArg("valid-from"):
			p = ValidFrom(frontierArg(t, d, "valid-from"))
		}
		err = c.SetReadPolicy(p, idsArg(t, d, "ids")...)
	case "drop":
		err = c.DropCollections(idsArg(t, d, "ids")...)
	case "add-replica":
		err = c.AddReplica(rid(t, argString(t, d, "id")), "r")
	case "remove-replica":
		err = c.RemoveReplica(rid(t, argString(t, d, "id")))
	case "fail-replica":
		err = c.ReplicaFailed(h.now, rid(t, argString(t, d, "id")), intArg(t, d, "inc"), errors.New("runtime terminated"))
	case "frontiers":
		f := &messages.ComputeFrontiers{Id: messages.FromGlobalId(gid(t, argString(t, d, "id")))}
		if d.HasArg("write") {
			f.Write = messages.FromFrontier(frontierArg(t, d, "write"))
		}
		if d.HasArg("input") {
			f.Input = messages.FromFrontier(frontierArg(t, d, "input"))
		}
		if d.HasArg("output") {
			f.Output = messages.FromFrontier(frontierArg(t, d, "output"))
		}
		err = h.respond(t, d, rid(t, argString(t, d, "replica")), &messages.ComputeResponse{Response: &messages.ComputeResponse_Frontiers{Frontiers: f}})
	case "peek":
		req := PeekRequest{Uuid: scriptPeekUuid(intArg(t, d, "p")), Collection: gid(t, argString(t, d, "id")),
			Timestamp: timely.Timestamp(intArg(t, d, "at")), Client: fmt.Sprintf("client-p%d", intArg(t, d, "p"))}
		if d.HasArg("target") {
			r := rid(t, argString(t, d, "target"))
			req.Target = &r
		}
		if d.HasArg("timeout") {
			dur, perr := time.ParseDuration(argString(t, d, "timeout"))
			if perr != nil {
				t.Fatal(perr)
			}
			req.Deadline = h.now.Add(dur)
		}
		err = c.Peek(req)
	case "cancel":
		err = c.CancelPeek(scriptPeekUuid(intArg(t, d, "p")))
	case "peek-response":
		pr := &messages.ComputePeekResponse{Uuid: messages.FromUuid(scriptPeekUuid(intArg(t, d, "p")))}
		switch {
		case d.HasArg("rows"):
			var rows []*messages.Row
			for i := uint64(0); i < intArg(t, d, "rows"); i++ {
				rows = append(rows, &messages.Row{Datums: []*messages.Datum{{Value: &messages.Datum_Int64{Int64: int64(i)}}}})
			}
			pr.Result = &messages.ComputePeekResponse_Rows{Rows: &messages.ComputePeekRows{Rows: rows}}
		case d.HasArg("error"):
			pr.Result = &messages.ComputePeekResponse_Error{Error: messages.ErrorToWire(fmt.Errorf("%w: %s", messages.ErrInternal, argString(t, d, "error")))}
		case d.HasArg("canceled"):
			pr.Result = &messages.ComputePeekResponse_Canceled{Canceled: &messages.ComputePeekCanceled{}}
		}
		err = h.respond(t, d, rid(t, argString(t, d, "replica")), &messages.ComputeResponse{Response: &messages.ComputeResponse_PeekResponse{PeekResponse: pr}})
	case "subscribe-batch":
		b := &messages.ComputeSubscribeBatch{Lower: messages.FromFrontier(frontierArg(t, d, "lower")), Upper: messages.FromFrontier(frontierArg(t, d, "upper"))}
		if d.HasArg("error") {
			b.Result = &messages.ComputeSubscribeBatch_Error{Error: messages.ErrorToWire(fmt.Errorf("%w: %s", messages.ErrInternal, argString(t, d, "error")))}
		} else {
			var us []*messages.ComputeUpdate
			if d.HasArg("updates") {
				var ts []string
				d.ScanArgs(t, "updates", &ts)
				for _, s := range ts {
					n, _ := strconv.ParseUint(s, 10, 64)
					us = append(us, &messages.ComputeUpdate{Time: n, Diff: 1})
				}
			}
			b.Result = &messages.ComputeSubscribeBatch_Updates{Updates: &messages.ComputeUpdates{Updates: us}}
		}
		err = h.respond(t, d, rid(t, argString(t, d, "replica")), &messages.ComputeResponse{Response: &messages.ComputeResponse_SubscribeResponse{
			SubscribeResponse: &messages.ComputeSubscribeResponse{Id: messages.FromGlobalId(gid(t, argString(t, d, "id"))), Response: &messages.ComputeSubscribeResponse_Batch{Batch: b}}}})
	case "hydrated":
		s := &messages.ComputeStatus{}
		for _, id := range idsArg(t, d, "ids") {
			s.Hydration = append(s.Hydration, &messages.ComputeHydration{Id: messages.FromGlobalId(id), Hydrated: true})
		}
		err = h.respond(t, d, rid(t, argString(t, d, "replica")), &messages.ComputeResponse{Response: &messages.ComputeResponse_Status{Status: s}})
	case "status-error":
		code, ok := messages.ErrorCode_value["ERROR_CODE_"+argString(t, d, "code")]
		if !ok {
			t.Fatalf("%s: unknown code", d.Pos)
		}
		s := &messages.ComputeStatus{Error: &messages.Error{Code: messages.ErrorCode(code), Message: "injected"}, Restarted: d.HasArg("restarted")}
		if d.HasArg("id") {
			s.Failed = messages.FromGlobalId(gid(t, argString(t, d, "id")))
		}
		err = h.respond(t, d, rid(t, argString(t, d, "replica")), &messages.ComputeResponse{Response: &messages.ComputeResponse_Status{Status: s}})
	case "hold":
		var hold ReadHold
		hold, err = c.AcquireReadHold(gid(t, argString(t, d, "id")))
		if err == nil {
			extra = fmt.Sprintf("hold h%d on %s at %s\n", hold.Id, hold.Collection, hold.Since)
		}
	case "downgrade":
		err = c.DowngradeReadHold(HoldId(intArg(t, d, "hold")), frontierArg(t, d, "to"))
	case "release":
		err = c.ReleaseReadHold(HoldId(intArg(t, d, "hold")))
	case "maintain":
		if d.HasArg("advance") {
			dur, perr := time.ParseDuration(argString(t, d, "advance"))
			if perr != nil {
				t.Fatal(perr)
			}
			h.now = h.now.Add(dur)
		}
		c.Maintain(h.now)
	case "stop":
		c.Stop()
	case "read-only":
		*h = *newHarnessOf(t, true)
		return fmt.Sprintf("read-only=%v", h.core.ReadOnly())
	case "allow-writes":
		err = c.AllowWrites()
	case "state":
		return h.state()
	case "history":
		var b strings.Builder
		for _, cmd := range c.History().Commands() {
			b.WriteString(DescribeCommand(cmd) + "\n")
		}
		return b.String()
	default:
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	}
	out := extra + formatEffects(c.Drain())
	if err != nil {
		out += fmt.Sprintf("error: %v [%s]\n", err, strings.TrimPrefix(messages.CodeOf(err).String(), "ERROR_CODE_"))
	}
	if out == "" {
		return "ok"
	}
	return out
}

func argString(t *testing.T, d *datadriven.TestData, key string) string {
	t.Helper()
	var s string
	d.ScanArgs(t, key, &s)
	return s
}

func formatEffects(fx Effects) string {
	var b strings.Builder
	for _, c := range fx.Connects {
		var kinds []string
		for _, cmd := range c.Commands {
			kinds = append(kinds, DescribeCommand(cmd))
		}
		fmt.Fprintf(&b, "connect %s inc=%d: %s\n", c.Replica, c.Incarnation, strings.Join(kinds, "; "))
	}
	for _, c := range fx.Commands {
		fmt.Fprintf(&b, "-> %s@%d: %s\n", c.Replica, c.Command.GetEpoch().GetIncarnation(), DescribeCommand(c.Command))
	}
	for _, r := range fx.Removed {
		fmt.Fprintf(&b, "removed %s\n", r)
	}
	for _, s := range fx.StorageHolds {
		fmt.Fprintf(&b, "storage %s h%d %s %s\n", s.Op, s.Hold, s.Collection, s.Frontier)
	}
	for _, p := range fx.Peeks {
		if p.Err != nil {
			fmt.Fprintf(&b, "answer %s to %v: error: %v [%s]\n", shortUuid(p.Uuid), p.Client, p.Err, strings.TrimPrefix(messages.CodeOf(p.Err).String(), "ERROR_CODE_"))
		} else {
			fmt.Fprintf(&b, "answer %s to %v: %d rows from %s\n", shortUuid(p.Uuid), p.Client, len(p.Rows), p.Replica)
		}
	}
	for _, s := range fx.Subscribes {
		switch {
		case s.DroppedAt != nil:
			fmt.Fprintf(&b, "subscribe %s to %v: dropped at %s\n", s.Id, s.Client, *s.DroppedAt)
		case s.Err != nil:
			fmt.Fprintf(&b, "subscribe %s to %v: [%s, %s) error: %v\n", s.Id, s.Client, s.Lower, s.Upper, s.Err)
		default:
			var ts []string
			for _, u := range s.Updates {
				ts = append(ts, strconv.FormatUint(u.GetTime(), 10))
			}
			fmt.Fprintf(&b, "subscribe %s to %v: [%s, %s) updates at (%s)\n", s.Id, s.Client, s.Lower, s.Upper, strings.Join(ts, ","))
		}
	}
	for _, e := range fx.StatusErrors {
		fmt.Fprintf(&b, "status error from %s on %q [%s]\n", e.Replica, e.Collection, e.Code)
	}
	for _, l := range fx.Logs {
		if l.Level >= 0 { // info and above: debug lines stay out of scripts
			fmt.Fprintf(&b, "log %s: %s\n", strings.ToLower(l.Level.String()), l.Msg)
		}
	}
	return b.String()
}

func (h *harness) state() string {
	d := h.core.Dump(h.now)
	var b strings.Builder
	for _, c := range d.Collections {
		if c.Storage {
			fmt.Fprintf(&b, "storage %s held-from=%s since=%s upper=%s", c.Id, c.Since, c.StorageSince, c.Upper)
		} else {
			fmt.Fprintf(&b, "collection %s as_of=%s since=%s upper=%s policy=%s", c.Id, c.AsOf, c.Since, c.Upper, c.Policy)
			if c.Scheduled {
				b.WriteString(" scheduled")
			}
			if c.Dropped {
				b.WriteString(" dropped")
			}
		}
		b.WriteString("\n")
		for _, hd := range c.Holds {
			fmt.Fprintf(&b, "  h%d %s %s\n", hd.Id, hd.Since, hd.Holder)
		}
	}
	for _, r := range d.Replicas {
		fmt.Fprintf(&b, "replica %s inc=%d %s", r.Id, r.Incarnation, r.Status)
		if r.LastError != "" {
			fmt.Fprintf(&b, " (%s)", r.LastError)
		}
		if r.StatusErrors > 0 {
			fmt.Fprintf(&b, " status_errors=%d", r.StatusErrors)
		}
		if r.StatusError != "" {
			fmt.Fprintf(&b, " status_error=(%s)", r.StatusError)
		}
		b.WriteString("\n")
		for _, c := range r.Collections {
			fmt.Fprintf(&b, "  %s write=%s input=%s output=%s hydrated=%v", c.Id, c.Write, c.Input, c.Output, c.Hydrated)
			if c.LastError != "" {
				fmt.Fprintf(&b, " error=(%s)", c.LastError)
			}
			b.WriteString("\n")
		}
	}
	for _, p := range d.Peeks {
		fmt.Fprintf(&b, "peek %s %s@%d hold=h%d", p.Uuid, p.Collection, p.Timestamp, p.Hold)
		if p.Target != "" {
			fmt.Fprintf(&b, " target=%s", p.Target)
		}
		b.WriteString("\n")
	}
	for _, s := range d.Subscribes {
		fmt.Fprintf(&b, "subscribe %s delivered=%s\n", s.Id, s.Delivered)
	}
	var keys []string
	for k := range d.PeekResults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "peeks %s=%d\n", k, d.PeekResults[k])
	}
	fmt.Fprintf(&b, "history %d commands\n", d.HistoryCommands)
	return b.String()
}
