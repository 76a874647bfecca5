package runtime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/timely"
)

// TestBuildQueueScripts drives BuildQueue (build_queue.go) through the
// scripts in testdata/builds. Regenerate with `go test
// ./actors/replica/runtime -run TestBuildQueueScripts -rewrite`.
//
//	ready                                       storage answered the startup frontiers
//	enqueue key=<n> exports=(<id>,...) [tables=(<id>,...)]
//	checked key=<n> [err=<text>]                storage answered build n's check
//	forget export=<id>                          an export was dropped
func TestBuildQueueScripts(t *testing.T) {
	ids := func(d *datadriven.TestData, key string) []timely.GlobalId {
		if !d.HasArg(key) {
			return nil
		}
		var ss []string
		d.ScanArgs(t, key, &ss)
		var out []timely.GlobalId
		for _, s := range ss {
			id, err := timely.ParseGlobalId(s)
			if err != nil {
				t.Fatalf("%s: %v", d.Pos, err)
			}
			out = append(out, id)
		}
		return out
	}
	key := func(d *datadriven.TestData) uint64 {
		var s string
		d.ScanArgs(t, "key", &s)
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", d.Pos, err)
		}
		return n
	}
	datadriven.Walk(t, "testdata/builds", func(t *testing.T, path string) {
		var q BuildQueue
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			var ev BuildEvent
			switch d.Cmd {
			case "ready":
				ev = BuildReady{}
			case "enqueue":
				ev = BuildEnqueued{Key: key(d), Exports: ids(d, "exports"), Tables: ids(d, "tables")}
			case "checked":
				e := BuildChecked{Key: key(d)}
				if d.HasArg("err") {
					var s string
					d.ScanArgs(t, "err", &s)
					e.Err = errors.New(s)
				}
				ev = e
			case "forget":
				ev = BuildForget{Export: ids(d, "export")[0]}
			default:
				t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
			}
			fx, err := q.Step(ev)
			out := buildEffectsString(fx)
			if err != nil {
				out += "error: " + err.Error() + "\n"
			}
			return out + buildQueueString(&q)
		})
	})
}

func buildEffectsString(fx BuildEffects) string {
	var b strings.Builder
	if f := fx.Fail; f != nil {
		fmt.Fprintf(&b, "fail %d: %v\n", f.Key, f.Err)
	}
	for _, k := range fx.Install {
		fmt.Fprintf(&b, "install %d\n", k)
	}
	for _, k := range fx.Gone {
		fmt.Fprintf(&b, "gone %d\n", k)
	}
	if c := fx.Check; c != nil {
		fmt.Fprintf(&b, "check %d %v\n", c.Key, c.Tables)
	}
	return b.String()
}

func buildQueueString(q *BuildQueue) string {
	if !q.ready {
		return fmt.Sprintf("queue (not ready): %s", buildsString(q))
	}
	return "queue: " + buildsString(q)
}

func buildsString(q *BuildQueue) string {
	var parts []string
	for _, b := range q.builds {
		s := fmt.Sprintf("%d%v", b.key, b.exports)
		if b.checking {
			s += " checking"
		}
		if b.canceled {
			s += " canceled"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}
