package runtime

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestMVSinkScripts drives MVSink (sink.go) through the scripts in
// testdata/sink, against a model storage collection that applies
// compare-and-append as storage does. Regenerate with `go test
// ./actors/replica/runtime -run TestMVSinkScripts -rewrite`.
//
//	collection upper=<t>             reset the model collection (nothing written) at upper t
//	sink name=<n> as_of=<t> [until=<t>]   a new sink n of the collection
//	step name=<n>                    apply the events of the input, one a line:
//	                                 installed, allow-writes, committed <t>, kick, drop
//	answer name=<n> [seq=<s>] [lost] [applied] [fail=<code>]
//	                                 the model answers n's request in flight (or request
//	                                 s): lost feeds a timeout (applied: the append took
//	                                 effect first); fail feeds a storage error
//	unread name=<n>                  the actor cannot read the output n's append needs
//	collection                       print the model: its upper and who wrote which range
func TestMVSinkScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/sink", func(t *testing.T, path string) {
		var (
			coll    *sinkModel
			sinks   map[string]*MVSink
			pending map[string]SinkEffects
		)
		reset := func(upper timely.Timestamp) {
			coll = &sinkModel{upper: upper}
			sinks, pending = map[string]*MVSink{}, map[string]SinkEffects{}
		}
		reset(0)
		ts := func(d *datadriven.TestData, key string) (timely.Timestamp, bool) {
			if !d.HasArg(key) {
				return 0, false
			}
			var v string
			d.ScanArgs(t, key, &v)
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("%s: %s=%s: %v", d.Pos, key, v, err)
			}
			return timely.Timestamp(n), true
		}
		named := func(d *datadriven.TestData) (string, *MVSink) {
			var name string
			d.ScanArgs(t, "name", &name)
			s, ok := sinks[name]
			if !ok {
				t.Fatalf("%s: no sink %s", d.Pos, name)
			}
			return name, s
		}
		apply := func(name string, s *MVSink, label string, ev SinkEvent) string {
			fx, err := s.Step(ev)
			if err != nil {
				return fmt.Sprintf("%-14s -> error: %v", label, err)
			}
			if fx.Learn != 0 || fx.Snapshot != nil || fx.Append != nil {
				pending[name] = fx
			}
			return fmt.Sprintf("%-14s -> %s%s", label, sinkString(s), effectsString(fx))
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "collection":
				if upper, ok := ts(d, "upper"); ok {
					reset(upper)
				}
				return coll.String()
			case "sink":
				var name string
				d.ScanArgs(t, "name", &name)
				asOf, _ := ts(d, "as_of")
				until := timely.Closed()
				if u, ok := ts(d, "until"); ok {
					until = timely.At(u)
				}
				sinks[name] = NewMVSink(timely.UserId(5), asOf, until)
				return sinkString(sinks[name])
			case "step":
				name, s := named(d)
				var out []string
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					var ev SinkEvent
					switch {
					case len(f) == 1 && f[0] == "installed":
						ev = SinkInstalled{}
					case len(f) == 1 && f[0] == "allow-writes":
						ev = SinkAllowWrites{}
					case len(f) == 2 && f[0] == "committed":
						n, err := strconv.ParseUint(f[1], 10, 64)
						if err != nil {
							t.Fatalf("%s: %s: %v", d.Pos, line, err)
						}
						ev = SinkCommitted{Checkpoint: timely.Timestamp(n)}
					case len(f) == 1 && f[0] == "kick":
						ev = SinkKick{}
					case len(f) == 1 && f[0] == "drop":
						ev = SinkDrop{}
					default:
						t.Fatalf("%s: unknown event %q", d.Pos, line)
					}
					out = append(out, apply(name, s, line, ev))
				}
				return strings.Join(out, "\n")
			case "unread":
				name, s := named(d)
				req := pending[name]
				delete(pending, name)
				seq := s.Seq
				if req.Append != nil {
					seq = req.Append.Seq
				}
				return apply(name, s, "unread", SinkUnread{Seq: seq, Err: fmt.Errorf("output store: read timed out")})
			case "answer":
				name, s := named(d)
				req, ok := pending[name]
				delete(pending, name)
				if sq, given := ts(d, "seq"); given {
					// A late or duplicate answer to append sq: the model
					// does not change, the sink is told the append took
					// effect.
					return apply(name, s, fmt.Sprintf("append#%d ok", sq), SinkAppended{Seq: uint64(sq), Upper: coll.upper})
				} else if !ok {
					return "no request in flight"
				}
				seq, kind := req.Learn, "learn"
				switch {
				case req.Snapshot != nil:
					seq, kind = req.Snapshot.Seq, "snapshot"
				case req.Append != nil:
					seq, kind = req.Append.Seq, "append"
				}
				label := fmt.Sprintf("%s#%d", kind, seq)
				if d.HasArg("applied") && req.Append != nil {
					coll.cas(name, *req.Append)
				}
				if d.HasArg("lost") {
					return apply(name, s, label+" lost", SinkFailed{Seq: seq, Err: fmt.Errorf("%w: no answer", ErrStorageTimeout)})
				}
				if d.HasArg("fail") {
					var code string
					d.ScanArgs(t, "fail", &code)
					err := map[string]error{"not-found": messages.ErrNotFound, "unavailable": messages.ErrUnavailable}[code]
					if err == nil {
						t.Fatalf("%s: unknown failure %s", d.Pos, code)
					}
					return apply(name, s, label+" "+code, SinkFailed{Seq: seq, Err: fmt.Errorf("%w: %w", ErrStorage, err)})
				}
				switch {
				case req.Snapshot != nil:
					return apply(name, s, label, SinkSnapshotTaken{Seq: seq, Have: coll.rowsAt(req.Snapshot.At)})
				case req.Append != nil:
					if coll.cas(name, *req.Append) {
						return apply(name, s, label+" ok", SinkAppended{Seq: seq, Upper: coll.upper})
					}
					return apply(name, s, label+" mismatch", SinkMismatch{Seq: seq, Current: coll.upper})
				}
				return apply(name, s, label, SinkUpperLearned{Seq: seq, Upper: coll.upper})
			}
			t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
			return ""
		})
	})
}

// sinkModel is a storage collection: compare-and-append on its upper, and
// the ranges written, with who wrote them, so a script shows that no
// range is written twice.
type sinkModel struct {
	upper  timely.Timestamp
	writes []string
	rows   int // one row per append, to give corrections something to take back
}

func (m *sinkModel) cas(who string, r SinkAppend) bool {
	if r.Lo != m.upper || r.Hi <= r.Lo {
		return false
	}
	w := fmt.Sprintf("[%d,%d) by %s", r.Lo, r.Hi, who)
	if r.Correct {
		w += fmt.Sprintf(" corrected at %d less %d rows", r.AsOf, len(r.Have))
	}
	m.writes = append(m.writes, w)
	m.upper = r.Hi
	m.rows++
	return true
}

func (m *sinkModel) rowsAt(timely.Timestamp) []*messages.StorageRowDiff {
	out := make([]*messages.StorageRowDiff, m.rows)
	for i := range out {
		one := int64(1)
		out[i] = &messages.StorageRowDiff{Diff: &one}
	}
	return out
}

func (m *sinkModel) String() string {
	s := fmt.Sprintf("upper=%d", m.upper)
	for _, w := range m.writes {
		s += "\n" + w
	}
	return s
}

func sinkString(s *MVSink) string {
	out := s.Phase.String()
	if s.Known {
		out += fmt.Sprintf(" upper=%d", s.Upper)
	} else {
		out += " upper=?"
	}
	out += fmt.Sprintf(" checkpoint=%d", s.Checkpoint)
	for _, f := range []struct {
		on   bool
		name string
	}{{s.Installed, "installed"}, {s.WritesAllowed, "writable"}, {s.Stalled, "stalled"}} {
		if f.on {
			out += " " + f.name
		}
	}
	return out
}

func effectsString(fx SinkEffects) string {
	var eff []string
	if fx.Learn != 0 {
		eff = append(eff, fmt.Sprintf("learn#%d", fx.Learn))
	}
	if r := fx.Snapshot; r != nil {
		eff = append(eff, fmt.Sprintf("snapshot#%d at=%d", r.Seq, r.At))
	}
	if r := fx.Append; r != nil {
		a := fmt.Sprintf("append#%d [%d,%d)", r.Seq, r.Lo, r.Hi)
		if r.Correct {
			a += fmt.Sprintf(" correct as_of=%d less=%d", r.AsOf, len(r.Have))
		}
		eff = append(eff, a)
	}
	if fx.Report {
		eff = append(eff, "report")
	}
	if fx.Outcome != "" {
		eff = append(eff, "count="+fx.Outcome)
	}
	if fx.Warn != "" {
		eff = append(eff, "warn")
	}
	if len(eff) == 0 {
		return ""
	}
	return " [" + strings.Join(eff, " ") + "]"
}
