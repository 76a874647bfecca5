package supervision

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// epoch is time 0 of the scripts; times print as offsets from it.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestScripts runs the scripted scenarios in testdata/ against a Tracker.
// Regenerate with `go test ./supervision -run TestScripts -rewrite` and
// review the diff like code.
//
//	policy [initial=<d>] [max=<d>] [multiplier=<f>] [jitter=<f>] [restarts=<n>] [window=<d>] [seed=<n>]
//	    a new tracker (fields default to DefaultPolicy's, seed to 1)
//	failed t=<d> [err=<word>]   prints the decision and the status
//	healthy t=<d> | reset t=<d> prints the status
//	status t=<d> [json]
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var tr *Tracker
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "policy" {
				var err error
				tr, err = NewTracker(scriptPolicy(t, d))
				if err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			}
			if tr == nil {
				d.Fatalf(t, "%s before policy", d.Cmd)
			}
			now := epoch.Add(durationArg(t, d, "t"))
			switch d.Cmd {
			case "failed":
				err := errors.New("failure")
				if d.HasArg("err") {
					var w string
					d.ScanArgs(t, "err", &w)
					err = errors.New(w)
				}
				dec := tr.Failed(now, err)
				return showDecision(dec) + "\n" + showStatus(tr.Status(now))
			case "healthy":
				tr.Healthy(now)
			case "reset":
				tr.Reset(now)
			case "status":
				if d.HasArg("json") {
					b, err := json.Marshal(tr.Status(now))
					if err != nil {
						d.Fatalf(t, "%v", err)
					}
					return string(b)
				}
			default:
				d.Fatalf(t, "unknown command %s", d.Cmd)
			}
			return showStatus(tr.Status(now))
		})
	})
}

func scriptPolicy(t *testing.T, d *datadriven.TestData) (Policy, *rand.Rand) {
	p := DefaultPolicy()
	if d.HasArg("initial") {
		p.InitialBackoff = durationArg(t, d, "initial")
	}
	if d.HasArg("max") {
		p.MaxBackoff = durationArg(t, d, "max")
	}
	if d.HasArg("window") {
		p.Window = durationArg(t, d, "window")
	}
	if d.HasArg("multiplier") {
		d.ScanArgs(t, "multiplier", &p.Multiplier)
	}
	if d.HasArg("jitter") {
		d.ScanArgs(t, "jitter", &p.Jitter)
	}
	if d.HasArg("restarts") {
		d.ScanArgs(t, "restarts", &p.MaxRestarts)
	}
	seed := uint64(1)
	if d.HasArg("seed") {
		d.ScanArgs(t, "seed", &seed)
	}
	return p, rand.New(rand.NewPCG(seed, seed))
}

func durationArg(t *testing.T, d *datadriven.TestData, key string) time.Duration {
	var s string
	d.ScanArgs(t, key, &s)
	v, err := time.ParseDuration(s)
	if err != nil {
		d.Fatalf(t, "%s: %v", key, err)
	}
	return v
}

func showDecision(dec Decision) string {
	if dec.Action != Restart {
		return dec.Action.String()
	}
	return fmt.Sprintf("restart in %v (at %v)", dec.Delay, dec.At.Sub(epoch))
}

func showStatus(s Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: restarts %d, consecutive %d", s.State, s.RestartsInWindow, s.ConsecutiveFailures)
	if s.LastError != "" {
		fmt.Fprintf(&b, ", last error %q at %v", s.LastError, s.LastFailure.Sub(epoch))
	}
	if !s.NextRestart.IsZero() {
		fmt.Fprintf(&b, ", next restart at %v", s.NextRestart.Sub(epoch))
	}
	return b.String()
}
