package testkit

import (
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

type ping struct{ n int }
type pong struct{ n int }

// echo answers every ping with a pong to its sender, naming itself as the
// pong's sender (ctx.Respond would send without one).
func echo(ctx actor.Context) {
	if p, ok := ctx.Message().(*ping); ok {
		ctx.Request(ctx.Sender(), &pong{p.n})
	}
}

func TestProbeSendAndExpect(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	pid := sys.Root.Spawn(actor.PropsFromFunc(echo))
	probe.Send(pid, &ping{1})
	if got := ExpectMsg[*pong](probe, DefaultTimeout); got.n != 1 {
		t.Fatalf("pong %d", got.n)
	}
	if !probe.LastSender().Equal(pid) {
		t.Fatalf("last sender %v, want %v", probe.LastSender(), pid)
	}
	probe.ExpectNoMsg(20 * time.Millisecond)
}

func TestProbeReplyGoesToSender(t *testing.T) {
	sys := NewSystem(t)
	asker := NewProbe(t, sys)
	answerer := NewProbe(t, sys)
	asker.Send(answerer.PID(), &ping{7})
	got := ExpectMsg[*ping](answerer, DefaultTimeout)
	answerer.Reply(&pong{got.n * 2})
	if p := ExpectMsg[*pong](asker, DefaultTimeout); p.n != 14 {
		t.Fatalf("reply %d", p.n)
	}
}

func TestProbeAsRequestTarget(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	f := sys.Root.RequestFuture(probe.PID(), &ping{3}, DefaultTimeout)
	ExpectMsg[*ping](probe, DefaultTimeout)
	probe.Reply(&pong{3})
	res, err := f.Result()
	if err != nil {
		t.Fatal(err)
	}
	if res.(*pong).n != 3 {
		t.Fatalf("future got %v", res)
	}
}

func TestProbeFishForSkipsOthers(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	for i := 0; i < 5; i++ {
		sys.Root.Send(probe.PID(), &ping{i})
	}
	got := probe.FishFor(func(m any) bool { p, ok := m.(*ping); return ok && p.n == 3 }, DefaultTimeout)
	if got.(*ping).n != 3 {
		t.Fatalf("fished %v", got)
	}
	if next := ExpectMsg[*ping](probe, DefaultTimeout); next.n != 4 {
		t.Fatalf("after fishing, next is %d", next.n)
	}
}

func TestProbeWatchSeesTermination(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	pid := sys.Root.Spawn(actor.PropsFromFunc(echo))
	probe.Watch(pid)
	sys.Root.Stop(pid)
	term := ExpectMsg[*actor.Terminated](probe, DefaultTimeout)
	if !term.Who.Equal(pid) {
		t.Fatalf("terminated %v, want %v", term.Who, pid)
	}
}

// The assertions must be able to fail; otherwise every test built on them
// could pass vacuously.

func TestExpectMsgFailsOnTimeout(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	fails := failuresOf(t, func(tb testing.TB) {
		probe.t = tb
		ExpectMsg[*pong](probe, 30*time.Millisecond)
	})
	if len(fails) != 1 || !strings.Contains(fails[0], "got nothing") {
		t.Fatalf("failures = %q", fails)
	}
}

func TestExpectMsgFailsOnWrongType(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	sys.Root.Send(probe.PID(), &ping{1})
	fails := failuresOf(t, func(tb testing.TB) {
		probe.t = tb
		ExpectMsg[*pong](probe, DefaultTimeout)
	})
	if len(fails) != 1 || !strings.Contains(fails[0], "*testkit.ping") {
		t.Fatalf("failures = %q", fails)
	}
}

func TestExpectNoMsgFailsWhenAMessageArrives(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	go func() {
		time.Sleep(10 * time.Millisecond)
		sys.Root.Send(probe.PID(), &ping{9})
	}()
	fails := failuresOf(t, func(tb testing.TB) {
		probe.t = tb
		probe.ExpectNoMsg(2 * time.Second)
	})
	if len(fails) != 1 || !strings.Contains(fails[0], "expected no message") {
		t.Fatalf("failures = %q", fails)
	}
}

func TestFishForFailsWhenNothingMatches(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	sys.Root.Send(probe.PID(), &ping{1})
	fails := failuresOf(t, func(tb testing.TB) {
		probe.t = tb
		probe.FishFor(func(any) bool { return false }, 30*time.Millisecond)
	})
	if len(fails) != 1 {
		t.Fatalf("failures = %q", fails)
	}
}

func TestReplyWithoutSenderFails(t *testing.T) {
	sys := NewSystem(t)
	probe := NewProbe(t, sys)
	sys.Root.Send(probe.PID(), &ping{1}) // Send carries no sender
	ExpectMsg[*ping](probe, DefaultTimeout)
	fails := failuresOf(t, func(tb testing.TB) {
		probe.t = tb
		probe.Reply(&pong{1})
	})
	if len(fails) != 1 || !strings.Contains(fails[0], "no sender") {
		t.Fatalf("failures = %q", fails)
	}
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, func() bool { n++; return n > 3 }, time.Second)
	fails := failuresOf(t, func(tb testing.TB) {
		Eventually(tb, func() bool { return false }, 20*time.Millisecond, "waiting for %s", "godot")
	})
	if len(fails) != 1 || !strings.Contains(fails[0], "waiting for godot") {
		t.Fatalf("failures = %q", fails)
	}
}

func TestNewSystemReportsLeakedGoroutines(t *testing.T) {
	stop := make(chan struct{})
	fails := failuresOf(t, func(tb testing.TB) {
		inner := &cleanupTB{TB: tb}
		NewSystem(inner)
		go func() { <-stop }() // leaked on purpose
		inner.runCleanups()
	})
	close(stop)
	if len(fails) != 1 || !strings.Contains(fails[0], "leaked") {
		t.Fatalf("failures = %q", fails)
	}
}

// cleanupTB runs cleanups when told, so a test can observe NewSystem's
// end-of-test checks.
type cleanupTB struct {
	testing.TB
	cleanups []func()
}

func (c *cleanupTB) Cleanup(f func()) { c.cleanups = append(c.cleanups, f) }
func (c *cleanupTB) runCleanups() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
}

// A dead letter (a message to a stopped actor) must not make the end-of-test
// leak check fail: protoactor's throttle goroutine outlives it briefly.
func TestDeadLetterDoesNotTripLeakCheck(t *testing.T) {
	sys := NewSystem(t)
	pid := sys.Root.Spawn(actor.PropsFromFunc(echo))
	if err := sys.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatal(err)
	}
	sys.Root.Send(pid, &ping{1})
}
