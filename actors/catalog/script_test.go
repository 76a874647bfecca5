package catalog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cockroachdb/datadriven"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/timely"
)

// TestScripts runs the scripted scenarios in testdata/ against a Core
// (backoff 100ms doubling up to 400ms). Each command prints the effects
// it caused and the phase after it, or "panic: ..." when the Core refused
// it as a broken invariant. Regenerate with
// `go test ./actors/catalog -run TestScripts -rewrite` and review the diff
// like code.
//
//	start | restarting | backoff-done | next | state
//	open ok | open err=<kind>        report the outcome of Config.Open
//	request id=<name> kind=transact|snapshot|allocate
//	outcome err=<kind>               report a served request's backend outcome
//	confirm err=<kind>               a leadership-check tick and its outcome
//
// Error kinds: none, fenced (epoch), generation (deploy generation),
// migration (migration upper), incompatible (a newer catalog version),
// backend (durable.ErrBackend), client (an Apply error), other (an
// uncoded error from Config.Open).
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		c := NewCore(100*time.Millisecond, 400*time.Millisecond)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return runScript(t, c, d)
		})
	})
}

func scriptError(t *testing.T, d *datadriven.TestData) error {
	kind := "none"
	if d.HasArg("err") {
		d.ScanArgs(t, "err", &kind)
	}
	switch kind {
	case "none":
		return nil
	case "fenced":
		return &durable.FenceError{Kind: durable.FenceEpoch, Current: durable.FenceToken{DeployGeneration: 1, Epoch: 1}, Fence: durable.FenceToken{DeployGeneration: 1, Epoch: 2}}
	case "generation":
		return &durable.FenceError{Kind: durable.FenceDeployGeneration, Current: durable.FenceToken{DeployGeneration: 1, Epoch: 1}, Fence: durable.FenceToken{DeployGeneration: 2, Epoch: 2}}
	case "migration":
		return &durable.FenceError{Kind: durable.FenceMigrationUpper, ExpectedUpper: timely.At(3), ActualUpper: timely.At(4)}
	case "incompatible":
		return fmt.Errorf("open catalog: %w", &durable.VersionError{Durable: 3, Build: 2, MinSupported: 1})
	case "backend":
		return fmt.Errorf("commit: %w: outcome unknown: injected", durable.ErrBackend)
	case "client":
		return fmt.Errorf("%w: cluster u1", durable.ErrAlreadyExists)
	case "other":
		return errors.New("dial etcd: connection refused")
	}
	t.Fatalf("unknown error kind %q", kind)
	return nil
}

func runScript(t *testing.T, c *Core, d *datadriven.TestData) (out string) {
	var b strings.Builder
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(&b, "panic: %v\nphase: %s\n", p, c.Phase())
		}
		out = b.String()
	}()
	var eff Effects
	switch d.Cmd {
	case "start":
		eff = c.Start()
	case "restarting":
		eff = c.Restarting()
	case "backoff-done":
		eff = c.BackoffDone()
	case "open":
		if err := scriptError(t, d); err != nil {
			eff = c.OpenFailed(err)
		} else {
			eff = c.Opened()
		}
	case "request":
		var id, kind string
		d.ScanArgs(t, "id", &id)
		d.ScanArgs(t, "kind", &kind)
		var msg any
		switch kind {
		case "transact":
			msg = &Transact{}
		case "snapshot":
			msg = &GetSnapshot{}
		case "allocate":
			msg = &AllocateIds{Allocator: "user", Count: 1}
		default:
			t.Fatalf("unknown request kind %q", kind)
		}
		var serve bool
		serve, eff = c.Request(Request{Sender: actor.NewPID("test", id), Msg: msg})
		switch {
		case serve:
			fmt.Fprintf(&b, "serve %s\n", id)
		case c.Phase().final():
		default:
			fmt.Fprintf(&b, "wait %s (%d waiting)\n", id, c.Pending())
		}
	case "next":
		if r, ok := c.NextPending(); ok {
			fmt.Fprintf(&b, "serve %s\n", r.Sender.Id)
		} else {
			b.WriteString("none\n")
		}
	case "outcome":
		eff = c.Outcome(scriptError(t, d))
	case "confirm":
		if !c.ConfirmDue() {
			b.WriteString("not due\n")
			break
		}
		eff = c.Outcome(scriptError(t, d))
	case "state":
		failures, last := c.Failures()
		fmt.Fprintf(&b, "phase %s, incarnation %d, %d failures (last: %v), %d waiting, final: %v\n",
			c.Phase(), c.Incarnation(), failures, last, c.Pending(), c.Final())
		return b.String()
	default:
		t.Fatalf("unknown command %q", d.Cmd)
	}
	printEffects(&b, eff)
	fmt.Fprintf(&b, "phase: %s\n", c.Phase())
	return b.String()
}

func printEffects(b *strings.Builder, eff Effects) {
	if eff.StopTimers {
		b.WriteString("stop timers\n")
	}
	for _, a := range eff.Answers {
		var err error
		switch m := a.Msg.(type) {
		case *TransactResult:
			err = m.Err
		case *SnapshotResult:
			err = m.Err
		case *IdsAllocated:
			err = m.Err
		}
		fmt.Fprintf(b, "answer %s %T: %v\n", a.To.Id, a.Msg, err)
	}
	if eff.Open {
		b.WriteString("open the catalog\n")
	}
	if eff.Backoff > 0 {
		fmt.Fprintf(b, "back off %s\n", eff.Backoff)
	}
	if eff.Confirm {
		b.WriteString("check leadership periodically\n")
	}
	if eff.Fenced != nil {
		fmt.Fprintf(b, "publish fenced: %s by %s\n", eff.Fenced.Current, eff.Fenced.Fence)
	}
	if eff.Halt != "" {
		fmt.Fprintf(b, "halt: %s\n", eff.Halt)
	}
	if eff.Fail != nil {
		fmt.Fprintf(b, "fail: %v\n", eff.Fail)
	}
}
