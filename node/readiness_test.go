package node

import (
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/testkit"
)

func TestReadinessVerdict(t *testing.T) {
	t0 := testkit.ManualEpoch
	for _, tc := range []struct {
		name  string
		apply func(r *readiness)
		now   time.Time
		ready bool
		why   []string // substrings of the reason
	}{
		{name: "not started", apply: func(r *readiness) {}, why: []string{"starting"}},
		{name: "started, nothing probed", apply: func(r *readiness) { r.setStarted() }, ready: true},
		{name: "stopping wins", apply: func(r *readiness) { r.setStarted(); r.setStopping() }, why: []string{"stopping"}},
		{name: "a stopped subsystem is named", apply: func(r *readiness) {
			r.setStarted()
			r.subsystemStopped("storage")
		}, why: []string{"storage: stopped"}},
		{name: "healthy answer", apply: func(r *readiness) {
			r.setStarted()
			r.probeSent("catalog", t0)
			r.probeAnswered("catalog", true, "")
		}, now: t0.Add(time.Hour), ready: true},
		{name: "outstanding within the deadline keeps the last answer", apply: func(r *readiness) {
			r.setStarted()
			r.probeAnswered("catalog", true, "")
			r.probeSent("catalog", t0)
		}, now: t0.Add(probeDeadline), ready: true},
		{name: "outstanding past the deadline", apply: func(r *readiness) {
			r.setStarted()
			r.probeAnswered("catalog", true, "")
			r.probeSent("catalog", t0)
		}, now: t0.Add(probeDeadline + time.Millisecond), why: []string{"catalog: no answer to a status probe for 2.001s"}},
		{name: "a later probe does not restart the deadline", apply: func(r *readiness) {
			r.setStarted()
			r.probeAnswered("catalog", true, "")
			r.probeSent("catalog", t0)
			if r.probeSent("catalog", t0.Add(2*time.Second)) {
				t.Error("a second probe was sent while one is outstanding")
			}
		}, now: t0.Add(3 * time.Second), why: []string{"catalog: no answer"}},
		{name: "unhealthy answer names the subsystem and its detail", apply: func(r *readiness) {
			r.setStarted()
			r.probeAnswered("catalog", false, "backoff after 2 failures")
		}, why: []string{"catalog: backoff after 2 failures"}},
		{name: "never answered", apply: func(r *readiness) {
			r.setStarted()
			r.probeSent("storage", t0)
		}, now: t0, why: []string{"storage: not yet probed"}},
		{name: "every reason, in order", apply: func(r *readiness) {
			r.setStarted()
			r.subsystemStopped("replica")
			r.probeAnswered("catalog", false, "halted")
		}, why: []string{"replica: stopped; catalog: halted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReadiness()
			tc.apply(r)
			now := tc.now
			if now.IsZero() {
				now = t0
			}
			ready, why := r.verdict(now)
			if ready != tc.ready {
				t.Fatalf("ready %v (%q), want %v", ready, why, tc.ready)
			}
			for _, w := range tc.why {
				if !strings.Contains(why, w) {
					t.Errorf("reason %q lacks %q", why, w)
				}
			}
		})
	}
}
