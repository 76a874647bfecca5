package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/timely"
)

// TestScripts drives the membership core (view and placer) through the
// scripts in testdata/. Regenerate their expected output with
// `go test ./cluster -run TestScripts -rewrite` and review the diff.
//
// Commands:
//
//	core self=<id> [seed=<n>] [departed=<n>]   a fresh core (default: self=a seed=1)
//	topology at=<seconds> [blocked=(<id>,...)] one snapshot of protoactor's membership;
//	                                           input lines: <id> <name> <roles,...|-> [<address>]
//	place cluster=<id> replica=<id> inc=<n> [avoid=(<id>,...)]
//	                                           choose a member and record it
//	release cluster=<id> replica=<id> [inc=<n>]
//	nodes                                      the rendered view
//	placements                                 every recorded placement
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		c := NewCore("a", 1, 0)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return runScript(t, &c, d)
		})
	})
}

var scriptEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func runScript(t *testing.T, c **Core, d *datadriven.TestData) string {
	switch d.Cmd {
	case "core":
		self, seed, departed := "a", uint64(1), 0
		if d.HasArg("self") {
			d.ScanArgs(t, "self", &self)
		}
		if d.HasArg("seed") {
			d.ScanArgs(t, "seed", &seed)
		}
		if d.HasArg("departed") {
			d.ScanArgs(t, "departed", &departed)
		}
		*c = NewCore(self, seed, departed)
		return "ok"
	case "topology":
		var at int
		d.ScanArgs(t, "at", &at)
		var blocked []string
		if d.HasArg("blocked") {
			d.ScanArgs(t, "blocked", &blocked)
		}
		var members []MemberInfo
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if len(f) < 3 {
				d.Fatalf(t, "member line %q: want <id> <name> <roles> [<address>]", line)
			}
			m := MemberInfo{ID: f[0], Name: f[1], Address: "127.0.0.1:" + f[0]}
			if f[2] != "-" {
				m.Roles = strings.Split(f[2], ",")
			}
			if len(f) > 3 {
				m.Address = f[3]
			}
			members = append(members, m)
		}
		ch := (*c).Observe(members, blocked, scriptEpoch.Add(time.Duration(at)*time.Second))
		var b strings.Builder
		for _, ev := range ch.Events {
			fmt.Fprintf(&b, "%s\n", ev)
		}
		for _, pl := range ch.Failed {
			fmt.Fprintf(&b, "failed %s inc=%d on %s\n", pl.Replica, pl.Incarnation, pl.Member)
		}
		for _, err := range ch.Rejected {
			fmt.Fprintf(&b, "rejected: %v\n", err)
		}
		if ch.Evicted {
			b.WriteString("evicted\n")
		}
		if b.Len() == 0 {
			return "no change"
		}
		return b.String()
	case "place":
		key, inc := scanKey(t, d)
		var avoid []string
		if d.HasArg("avoid") {
			d.ScanArgs(t, "avoid", &avoid)
		}
		pl, err := (*c).Place(key, inc, avoid...)
		if err != nil {
			return fmt.Sprintf("error: %v", err)
		}
		return fmt.Sprintf("%s inc=%d -> %s (%s)", pl.Replica, pl.Incarnation, pl.Member, pl.Address)
	case "release":
		key, inc := scanKey(t, d)
		return fmt.Sprintf("released=%v", (*c).Release(key, inc))
	case "nodes":
		n := (*c).Nodes()
		var b strings.Builder
		fmt.Fprintf(&b, "self=%s evicted=%v rejoins=%d\n", n.Self, n.Evicted, n.Rejoins)
		for _, m := range n.Members {
			fmt.Fprintf(&b, "%s name=%s state=%s roles=%v", m.ID, m.Name, m.State, m.Roles)
			if m.UpSince != nil {
				fmt.Fprintf(&b, " up=%ds", int(m.UpSince.Sub(scriptEpoch)/time.Second))
			}
			if m.DownAt != nil {
				fmt.Fprintf(&b, " down=%ds", int(m.DownAt.Sub(scriptEpoch)/time.Second))
			}
			if len(m.Replicas) > 0 {
				fmt.Fprintf(&b, " replicas=%v", m.Replicas)
			}
			b.WriteString("\n")
		}
		return b.String()
	case "placements":
		var b strings.Builder
		for _, pl := range (*c).Placements() {
			fmt.Fprintf(&b, "%s inc=%d -> %s\n", pl.Replica, pl.Incarnation, pl.Member)
		}
		if b.Len() == 0 {
			return "none"
		}
		return b.String()
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

func scanKey(t *testing.T, d *datadriven.TestData) (ReplicaKey, uint64) {
	var cs, rs string
	var inc uint64
	d.ScanArgs(t, "cluster", &cs)
	d.ScanArgs(t, "replica", &rs)
	if d.HasArg("inc") {
		d.ScanArgs(t, "inc", &inc)
	}
	cid, err := timely.ParseClusterId(cs)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	rid, err := timely.ParseReplicaId(rs)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	return ReplicaKey{Cluster: cid, Replica: rid}, inc
}
