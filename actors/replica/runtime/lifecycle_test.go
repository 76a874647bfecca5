package runtime

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestFlowLifeScripts drives FlowLife (lifecycle.go) through the scripts
// in testdata/lifecycle. Regenerate with `go test
// ./actors/replica/runtime -run TestFlowLifeScripts -rewrite`.
//
//	new                      a flow whose build was just queued
//	step <event>...          apply events in order, printing each outcome
//	matrix                   every event from every stage (scheduled or not)
func TestFlowLifeScripts(t *testing.T) {
	events := map[string]FlowEvent{"checked": EvChecked, "scheduled": EvScheduled, "accepted": EvAccepted, "hydrated": EvHydrated, "dropped": EvDropped}
	datadriven.Walk(t, "testdata/lifecycle", func(t *testing.T, path string) {
		var l FlowLife
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "new":
				l = NewFlowLife()
				return lifeString(l)
			case "step":
				var out []string
				for _, a := range d.CmdArgs {
					ev, ok := events[a.Key]
					if !ok {
						t.Fatalf("%s: unknown event %s", d.Pos, a.Key)
					}
					out = append(out, stepString(&l, ev))
				}
				return strings.Join(out, "\n")
			case "matrix":
				var out []string
				for _, st := range []FlowStage{StageQueued, StageChecked, StageSent, StageInstalled, StageDropped} {
					for _, sched := range []bool{false, true} {
						for _, ev := range []FlowEvent{EvChecked, EvScheduled, EvAccepted, EvHydrated, EvDropped} {
							l := FlowLife{Stage: st, Scheduled: sched}
							from := lifeString(l)
							out = append(out, fmt.Sprintf("%-22s %s", from, stepString(&l, ev)))
						}
					}
				}
				return strings.Join(out, "\n")
			}
			t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
			return ""
		})
	})
}

func lifeString(l FlowLife) string {
	s := l.Stage.String()
	if l.Scheduled {
		s += " scheduled"
	}
	if l.Hydrated {
		s += " hydrated"
	}
	return s
}

func stepString(l *FlowLife, ev FlowEvent) string {
	fx, err := l.Step(ev)
	if err != nil {
		return fmt.Sprintf("%-9s -> error: %v", ev, err)
	}
	var eff []string
	for _, e := range []struct {
		on   bool
		name string
	}{{fx.Install, "install"}, {fx.Accepted, "accepted"}, {fx.Hydrated, "report-hydrated"}, {fx.Cancel, "cancel"}} {
		if e.on {
			eff = append(eff, e.name)
		}
	}
	out := fmt.Sprintf("%-9s -> %s", ev, lifeString(*l))
	if len(eff) > 0 {
		out += " [" + strings.Join(eff, " ") + "]"
	}
	return out
}
