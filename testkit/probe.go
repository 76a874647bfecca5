package testkit

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// DefaultTimeout is a generous bound for messages a test expects: long enough
// for a loaded CI machine, short enough to fail fast when nothing comes.
const DefaultTimeout = 3 * time.Second

// Envelope is one message a Probe received, with its sender (nil when the
// message was sent without one).
type Envelope struct {
	Message any
	Sender  *actor.PID
}

// Probe is an actor that records every user message it receives, so a test
// can assert on them. Use its PID as a message's sender, as the reply target
// of a request, or as the watcher of another actor (its *actor.Terminated then
// arrives here like any message). Lifecycle messages of the probe itself
// (Started, Stopping, ...) are not recorded.
//
// Assertions take the next message in arrival order; FishFor skips messages
// until one matches.
type Probe struct {
	t   testing.TB
	sys *actor.ActorSystem
	pid *actor.PID

	mu      sync.Mutex
	queue   []Envelope
	arrived chan struct{} // signalled (non-blocking) on every arrival
	last    *actor.PID    // sender of the last message taken
}

// NewProbe spawns a probe in sys; it is stopped at the end of the test.
func NewProbe(t testing.TB, sys *actor.ActorSystem) *Probe {
	t.Helper()
	p := &Probe{t: t, sys: sys, arrived: make(chan struct{}, 1)}
	p.pid = sys.Root.Spawn(actor.PropsFromFunc(p.receive))
	t.Cleanup(func() { _ = sys.Root.StopFuture(p.pid).Wait() })
	return p
}

func (p *Probe) receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
		return
	case watchRequest:
		w := ctx.Message().(watchRequest)
		ctx.Watch(w.pid)
		close(w.done)
		return
	}
	p.mu.Lock()
	p.queue = append(p.queue, Envelope{Message: ctx.Message(), Sender: ctx.Sender()})
	p.mu.Unlock()
	select {
	case p.arrived <- struct{}{}:
	default:
	}
}

// PID is the probe's address.
func (p *Probe) PID() *actor.PID { return p.pid }

// Send delivers msg to target with the probe as its sender, so the target's
// ctx.Respond (or a reply to ctx.Sender()) comes back to the probe.
func (p *Probe) Send(target *actor.PID, msg any) {
	p.sys.Root.RequestWithCustomSender(target, msg, p.pid)
}

// Reply sends msg to the sender of the last message the probe took with
// ExpectMsg, FishFor or Next. It fails the test when that message had no sender.
func (p *Probe) Reply(msg any) {
	p.t.Helper()
	p.mu.Lock()
	to := p.last
	p.mu.Unlock()
	if to == nil {
		p.t.Fatalf("testkit: Reply(%T): the last message taken had no sender", msg)
		return
	}
	p.sys.Root.RequestWithCustomSender(to, msg, p.pid)
}

// LastSender is the sender of the last message taken, or nil.
func (p *Probe) LastSender() *actor.PID {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// Watch makes the probe watch pid: when it stops, the probe receives an
// *actor.Terminated naming it. Watch returns once the watch is in place.
func (p *Probe) Watch(pid *actor.PID) {
	p.t.Helper()
	done := make(chan struct{})
	p.sys.Root.Send(p.pid, watchRequest{pid: pid, done: done})
	select {
	case <-done:
	case <-time.After(DefaultTimeout):
		p.t.Fatalf("testkit: probe did not start watching %v", pid)
	}
}

// watchRequest asks the probe's own actor to watch a pid; it is never recorded.
type watchRequest struct {
	pid  *actor.PID
	done chan struct{}
}

// Next returns the next message within timeout, or fails the test.
func (p *Probe) Next(timeout time.Duration) Envelope {
	p.t.Helper()
	e, ok := p.take(func(any) bool { return true }, timeout, false)
	if !ok {
		p.t.Fatalf("testkit: no message within %v", timeout)
	}
	return e
}

// ExpectMsg takes the next message and fails the test unless it arrives
// within timeout and is a T.
func ExpectMsg[T any](p *Probe, timeout time.Duration) T {
	p.t.Helper()
	var zero T
	e, ok := p.take(func(any) bool { return true }, timeout, false)
	if !ok {
		p.t.Fatalf("testkit: expected a %v within %v, got nothing", reflect.TypeFor[T](), timeout)
		return zero
	}
	m, ok := e.Message.(T)
	if !ok {
		p.t.Fatalf("testkit: expected a %v, got %T: %v", reflect.TypeFor[T](), e.Message, e.Message)
		return zero
	}
	return m
}

// ExpectNoMsg fails the test if any message arrives within d (or is already
// waiting).
func (p *Probe) ExpectNoMsg(d time.Duration) {
	p.t.Helper()
	if e, ok := p.take(func(any) bool { return true }, d, false); ok {
		p.t.Fatalf("testkit: expected no message for %v, got %T: %v", d, e.Message, e.Message)
	}
}

// FishFor drops messages until one satisfies pred and returns it; it fails the
// test if none does within timeout. The dropped messages are gone.
func (p *Probe) FishFor(pred func(msg any) bool, timeout time.Duration) any {
	p.t.Helper()
	e, ok := p.take(pred, timeout, true)
	if !ok {
		p.t.Fatalf("testkit: no matching message within %v", timeout)
		return nil
	}
	return e.Message
}

// Received returns a copy of the messages waiting to be taken.
func (p *Probe) Received() []Envelope {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Envelope(nil), p.queue...)
}

// take removes and returns the first waiting message that satisfies pred.
// With drop, non-matching messages in front of it are discarded; without
// it, only the head of the queue is considered.
func (p *Probe) take(pred func(any) bool, timeout time.Duration, drop bool) (Envelope, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for len(p.queue) > 0 {
			e := p.queue[0]
			if pred(e.Message) {
				p.queue = p.queue[1:]
				p.last = e.Sender
				p.mu.Unlock()
				return e, true
			}
			if !drop {
				break
			}
			p.queue = p.queue[1:]
		}
		p.mu.Unlock()
		select {
		case <-p.arrived:
		case <-deadline.C:
			return Envelope{}, false
		}
	}
}

// String names the probe in failure messages.
func (p *Probe) String() string { return fmt.Sprintf("probe %v", p.pid) }
