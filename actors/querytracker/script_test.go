package querytracker

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestScripts runs the scripted scenarios in testdata/. Each command prints
// the effects it caused, then "error: ..." if the tracker ignored it.
// Invariants are checked after every command. Regenerate the expected output
// with `go test ./actors/querytracker -run TestScripts -rewrite` and review
// the diff like code.
//
// Commands (ids are small numbers: p3 is peek 3, e3 execution 3):
//
//	config ttl=<duration> log=<n>           fresh tracker (default 60s, 1024)
//	track p=<n> e=<n> conn=<n> cluster=<id> [deps=(<id>,...)] [strategy=<s>] [watch=ok|fail]
//	untrack p=<n>
//	cancel-conn conn=<n>
//	drop [clusters=(<id>,...)] [collections=(<id>,...)]
//	drop-unnamed ...                        the same without display names
//	notify p=<n> outcome=success|error|canceled|bogus [rows=<n>] [bytes=<n>] [msg=<word>]
//	begin e=<n> conn=<n>
//	set-cluster e=<n> cluster=<id>
//	set-timestamp e=<n> ts=<n>
//	end e=<n> kind=success|error|canceled|aborted|bogus [strategy=<s>] [msg=<word>]
//	advance by=<duration>
//	state                                   peeks, tombstones, unretired, double retirements
//	execution e=<n>                         the statement log's record
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := newScriptHarness(TrackerConfig{})
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out := h.run(t, d)
			if err := h.tracker.CheckInvariants(); err != nil {
				t.Fatalf("%s: invariant broken: %v", d.Pos, err)
			}
			return out
		})
	})
}

type scriptHarness struct {
	clock   *testkit.ManualClock
	fx      *fakeEffects
	tracker *Tracker
}

func newScriptHarness(cfg TrackerConfig) *scriptHarness {
	h := &scriptHarness{clock: testkit.NewManualClock(), fx: newFakeEffects()}
	h.tracker = NewTracker(cfg, h.fx)
	return h
}

func (h *scriptHarness) run(t *testing.T, d *datadriven.TestData) string {
	now := h.clock.Now()
	var err error
	switch d.Cmd {
	case "config":
		cfg := TrackerConfig{}
		if d.HasArg("ttl") {
			cfg.TombstoneTTL = scanDuration(t, d, "ttl")
		}
		if d.HasArg("log") {
			d.ScanArgs(t, "log", &cfg.LogCapacity)
		}
		*h = *newScriptHarness(cfg)
		return "ok"
	case "track":
		c := TrackPeek{
			Uuid:      peekId(scanInt(t, d, "p")),
			Execution: execId(scanInt(t, d, "e")),
			Conn:      timely.ConnectionId(scanInt(t, d, "conn")),
			Cluster:   scanCluster(t, d, "cluster"),
			Strategy:  StrategyStandard,
		}
		if d.HasArg("deps") {
			c.DependsOn = scanGlobalIds(t, d, "deps")
		}
		if d.HasArg("strategy") {
			c.Strategy = parseStrategy(scanString(t, d, "strategy"))
		}
		if d.HasArg("watch") {
			fail := scanString(t, d, "watch") == "fail"
			h.fx.failWatchSet = func(ExecutionId) bool { return fail }
			c.WatchSet = &WatchSet{Objects: c.DependsOn, Timestamp: 7}
		}
		err = h.tracker.TrackPeek(now, c)
	case "untrack":
		err = h.tracker.UntrackPeek(now, UntrackPeek{Uuid: peekId(scanInt(t, d, "p"))})
	case "cancel-conn":
		err = h.tracker.CancelConn(now, CancelConn{Conn: timely.ConnectionId(scanInt(t, d, "conn"))})
	case "drop", "drop-unnamed":
		c := CancelByDrop{Clusters: map[timely.ClusterId]string{}, Collections: map[timely.GlobalId]string{}}
		if d.HasArg("clusters") {
			for _, id := range scanClusters(t, d, "clusters") {
				c.Clusters[id] = fmt.Sprintf("cluster %q", "c"+id.String())
				if d.Cmd == "drop-unnamed" {
					c.Clusters[id] = ""
				}
			}
		}
		if d.HasArg("collections") {
			for _, id := range scanGlobalIds(t, d, "collections") {
				c.Collections[id] = fmt.Sprintf("relation %q", "r"+id.String())
				if d.Cmd == "drop-unnamed" {
					c.Collections[id] = ""
				}
			}
		}
		err = h.tracker.CancelByDrop(now, c)
	case "notify":
		n := Notification{}
		switch scanString(t, d, "outcome") {
		case "success":
			n.Outcome = OutcomeSuccess
		case "error":
			n.Outcome = OutcomeError
		case "canceled":
			n.Outcome = OutcomeCanceled
		}
		if d.HasArg("rows") {
			d.ScanArgs(t, "rows", &n.Rows)
		}
		if d.HasArg("bytes") {
			d.ScanArgs(t, "bytes", &n.ResultSize)
		}
		if d.HasArg("msg") {
			n.Error = scanString(t, d, "msg")
		}
		err = h.tracker.ObservePeekNotification(now, ObservePeekNotification{Uuid: peekId(scanInt(t, d, "p")), Notification: n})
	case "begin":
		err = h.tracker.BeginExecution(now, BeginExecution{Execution: execId(scanInt(t, d, "e")), Conn: timely.ConnectionId(scanInt(t, d, "conn"))})
	case "set-cluster":
		err = h.tracker.SetExecutionCluster(now, SetExecutionCluster{Execution: execId(scanInt(t, d, "e")), Cluster: scanCluster(t, d, "cluster")})
	case "set-timestamp":
		err = h.tracker.SetExecutionTimestamp(now, SetExecutionTimestamp{Execution: execId(scanInt(t, d, "e")), Timestamp: timely.Timestamp(scanInt(t, d, "ts"))})
	case "end":
		r := EndReason{}
		switch scanString(t, d, "kind") {
		case "success":
			r.Kind = EndSuccess
		case "error":
			r.Kind = EndError
		case "canceled":
			r.Kind = EndCanceled
		case "aborted":
			r.Kind = EndAborted
		}
		if d.HasArg("strategy") {
			r.Strategy = parseStrategy(scanString(t, d, "strategy"))
		}
		if d.HasArg("msg") {
			r.Message = scanString(t, d, "msg")
		}
		err = h.tracker.EndExecution(now, EndExecution{Execution: execId(scanInt(t, d, "e")), Reason: r})
	case "advance":
		h.clock.Advance(scanDuration(t, d, "by"))
		h.tracker.Expire(h.clock.Now())
		return fmt.Sprintf("now +%v", h.clock.Now().Sub(testkit.ManualEpoch))
	case "state":
		return h.state()
	case "execution":
		e, ok := h.tracker.Execution(execId(scanInt(t, d, "e")))
		if !ok {
			return "not in the log"
		}
		return describeExecution(e)
	default:
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	}
	out := h.fx.takeTrace()
	if err != nil {
		out = strings.TrimLeft(out+"\nerror: "+errorKind(err), "\n")
	}
	if out == "" {
		out = "ok"
	}
	return out
}

// errorKind names the sentinel an error wraps, so scripts do not depend on
// message wording.
func errorKind(err error) string {
	for _, s := range []error{ErrInvalidCommand, ErrUnknownPeek, ErrDuplicatePeek, ErrPeekEnded, ErrExecutionHasPeek,
		ErrUnknownExecution, ErrExecutionExists, ErrExecutionEnded, ErrAlreadyRetired} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return err.Error()
}

func (h *scriptHarness) state() string {
	var b strings.Builder
	d := h.tracker.Dump(h.clock.Now())
	fmt.Fprintf(&b, "peeks: %d\n", len(d.Peeks))
	for _, p := range d.Peeks {
		u, _ := timely.ParseUuid(p.Uuid)
		fmt.Fprintf(&b, "  %s conn=%d cluster=%s deps=%v %s strategy=%v\n", peekName(u), p.Conn, p.Cluster, p.DependsOn, execName(p.Execution), p.Strategy)
	}
	fmt.Fprintf(&b, "tombstones: %d\n", len(d.Tombstones))
	for _, ts := range d.Tombstones {
		fmt.Fprintf(&b, "  %s %s %s expires +%v\n", ts.Kind, ts.Id, ts.Name, ts.Expires.Sub(testkit.ManualEpoch))
	}
	fmt.Fprintf(&b, "unretired: %d\n", len(d.Unretired))
	for _, e := range d.Unretired {
		fmt.Fprintf(&b, "  %s\n", describeExecution(e))
	}
	fmt.Fprintf(&b, "double retirements: %d", d.DoubleRetirements)
	return b.String()
}

func describeExecution(e Execution) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s conn=%d began=+%v", execName(e.Id), e.Conn, e.BeganAt.Sub(testkit.ManualEpoch))
	if e.HasCluster {
		fmt.Fprintf(&b, " cluster=%v", e.Cluster)
	}
	if e.HasTimestamp {
		fmt.Fprintf(&b, " ts=%d", e.Timestamp)
	}
	if e.Strategy.Valid() {
		fmt.Fprintf(&b, " strategy=%v", e.Strategy)
	}
	if e.HasPeek {
		fmt.Fprintf(&b, " peek=%s", peekName(e.Peek))
	}
	if e.Ended {
		fmt.Fprintf(&b, " ended=+%v reason=%v", e.EndedAt.Sub(testkit.ManualEpoch), e.Reason)
	}
	return b.String()
}

func parseStrategy(s string) Strategy {
	for _, st := range []Strategy{StrategyStandard, StrategyFastPath, StrategyPersistFastPath, StrategyConstant} {
		if st.String() == s {
			return st
		}
	}
	return StrategyUnknown
}

func scanString(t *testing.T, d *datadriven.TestData, key string) string {
	var s string
	d.ScanArgs(t, key, &s)
	return s
}

func scanInt(t *testing.T, d *datadriven.TestData, key string) int {
	var n int
	d.ScanArgs(t, key, &n)
	return n
}

func scanDuration(t *testing.T, d *datadriven.TestData, key string) time.Duration {
	v, err := time.ParseDuration(scanString(t, d, key))
	if err != nil {
		t.Fatalf("%s: %s: %v", d.Pos, key, err)
	}
	return v
}

func scanCluster(t *testing.T, d *datadriven.TestData, key string) timely.ClusterId {
	id, err := timely.ParseClusterId(scanString(t, d, key))
	if err != nil {
		t.Fatalf("%s: %v", d.Pos, err)
	}
	return id
}

func scanClusters(t *testing.T, d *datadriven.TestData, key string) []timely.ClusterId {
	arg, _ := d.Arg(key)
	var out []timely.ClusterId
	for _, v := range arg.Vals {
		id, err := timely.ParseClusterId(strings.TrimSpace(v))
		if err != nil {
			t.Fatalf("%s: %v", d.Pos, err)
		}
		out = append(out, id)
	}
	return out
}

func scanGlobalIds(t *testing.T, d *datadriven.TestData, key string) []timely.GlobalId {
	arg, _ := d.Arg(key)
	var out []timely.GlobalId
	for _, v := range arg.Vals {
		id, err := timely.ParseGlobalId(strings.TrimSpace(v))
		if err != nil {
			t.Fatalf("%s: %v", d.Pos, err)
		}
		out = append(out, id)
	}
	return out
}
