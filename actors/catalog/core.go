package catalog

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog/durable"
)

// Request is a request of a client: its sender and message (*Transact,
// *GetSnapshot or *AllocateIds).
type Request struct {
	Sender *actor.PID
	Msg    any
}

// Answer is a response the guardian must send.
type Answer struct {
	To  *actor.PID
	Msg any
}

// Effects are what the guardian must do after a Core call, in field order.
type Effects struct {
	// StopTimers: stop the leadership check and the backoff timer.
	StopTimers bool
	// Answers are responses to send, in order.
	Answers []Answer
	// Open: call Config.Open, then report Opened or OpenFailed.
	Open bool
	// Backoff, when positive: arm the backoff timer, then report
	// BackoffDone when it fires.
	Backoff time.Duration
	// Confirm: check leadership every Config.ConfirmInterval, reporting
	// each check's outcome with Outcome.
	Confirm bool
	// Fenced, when set: publish it on the event stream and count a fence.
	Fenced *Fenced
	// Halt, when not empty: call Config.Halt with this reason.
	Halt string
	// Fail, when set: fail (panic) with it, so the supervisor restarts the
	// guardian. Always last: nothing after it runs.
	Fail *TransientFailure
}

// Core is the guardian's state machine: its phase, the requests waiting
// for the catalog to open, the consecutive transient failures and the
// final error. It does no I/O, reads no clock and starts no goroutines:
// every method returns the Effects its actor must carry out, and the
// actor reports the outcome of that I/O by a later call. One Core lives
// as long as the guardian's Props: it survives restarts, so backoff grows
// across incarnations, waiting requests are served by the next one and a
// fenced guardian stays fenced. It is not safe for concurrent use; the
// guardian's incarnations use it one after the other.
type Core struct {
	initialBackoff, maxBackoff time.Duration

	phase    Phase
	final    error // set once Fenced or Halted
	failures int   // consecutive transient failures; 0 after a good open
	lastErr  error // the latest transient failure
	starts   int   // incarnations started
	pending  []Request
	promoted bool // Promote began: every open from now on is writable
	// stopping: the guardian was told to stop. protoactor may still
	// restart it after that (a failure's Restart racing the Stop), and the
	// new incarnation must then open nothing and start no timer.
	stopping bool
}

// NewCore returns a core in phase Starting. The wait before the reopen
// that follows the n-th consecutive failure is initialBackoff·2^(n-1), at
// most maxBackoff.
func NewCore(initialBackoff, maxBackoff time.Duration) *Core {
	return &Core{initialBackoff: initialBackoff, maxBackoff: maxBackoff, phase: PhaseStarting}
}

// Phase returns the current phase.
func (c *Core) Phase() Phase { return c.phase }

// Final returns the error every request is answered with once Fenced or
// Halted (nil before).
func (c *Core) Final() error { return c.final }

// Failures returns the consecutive transient failures and the latest one.
func (c *Core) Failures() (int, error) { return c.failures, c.lastErr }

// Incarnation counts the starts: 1, then one more per restart.
func (c *Core) Incarnation() int { return c.starts }

// Pending returns the number of requests waiting for the catalog to open.
func (c *Core) Pending() int { return len(c.pending) }

func (c *Core) move(ev Event) {
	next, err := transition(c.phase, ev)
	if err != nil {
		panic(err) // a broken invariant of the core; the supervisor decides
	}
	c.phase = next
}

// backoff is the wait before the reopen that follows the n-th consecutive
// failure (n >= 1).
func (c *Core) backoff(n int) time.Duration {
	d := c.initialBackoff
	for i := 1; i < n && d < c.maxBackoff; i++ {
		d *= 2
	}
	return min(d, c.maxBackoff)
}

// Start begins an incarnation: open the catalog at once, or after a
// backoff when earlier incarnations failed; a final core stays final.
func (c *Core) Start() Effects {
	if c.stopping {
		return Effects{}
	}
	c.starts++
	c.move(EvStarted{Backoff: c.failures > 0})
	switch c.phase {
	case PhaseOpening:
		return Effects{Open: true}
	case PhaseBackoff:
		return Effects{Backoff: c.backoff(c.failures)}
	}
	return Effects{}
}

// BackoffDone reports that the backoff timer fired: open the catalog. A
// tick that arrives in another phase (sent before a restart) is ignored.
func (c *Core) BackoffDone() Effects {
	if c.phase != PhaseBackoff {
		return Effects{}
	}
	c.move(EvBackoffDone{})
	return Effects{Open: true}
}

// Opened reports that Config.Open returned a handle: the guardian is
// Ready, starts checking its leadership, and serves the waiting requests,
// one at a time, with NextPending.
func (c *Core) Opened() Effects {
	c.move(EvOpened{})
	c.failures = 0
	return Effects{Confirm: true}
}

// OpenFailed reports that Config.Open failed: a fence is final, a catalog
// version this build cannot read halts the node, anything else is
// transient and fails the incarnation. err is kept as it is: durable.Open
// names its operation already.
func (c *Core) OpenFailed(err error) Effects {
	var fe *durable.FenceError
	switch {
	case errors.As(err, &fe):
		return c.finish(EvFenced{}, fe)
	case errors.Is(err, durable.ErrIncompatibleVersion):
		return c.finish(EvIncompatible{}, fmt.Errorf("%w: %w", ErrHalted, err))
	}
	return c.fail(err)
}

// Request takes a client's request. serve says the catalog is open: the
// actor serves it now and reports the backend outcome with Outcome.
// Otherwise the request waits for the catalog to open, or, once Fenced or
// Halted, is answered in the Effects with the final error.
func (c *Core) Request(r Request) (serve bool, eff Effects) {
	switch {
	case c.phase == PhaseReady:
		return true, Effects{}
	case c.phase.final():
		return false, Effects{Answers: []Answer{{To: r.Sender, Msg: failed(r.Msg, c.final)}}}
	}
	c.pending = append(c.pending, r)
	return false, Effects{}
}

// NextPending removes and returns the oldest waiting request when Ready.
// The actor serves it and reports with Outcome before asking for the next,
// so requests behind one that fails the guardian wait for the next
// incarnation.
func (c *Core) NextPending() (Request, bool) {
	if c.phase != PhaseReady || len(c.pending) == 0 {
		return Request{}, false
	}
	r := c.pending[0]
	c.pending = c.pending[1:]
	return r, true
}

// ConfirmDue reports whether a leadership check tick should check: only
// while Ready (a tick sent before a restart or the end is ignored).
func (c *Core) ConfirmDue() bool { return c.phase == PhaseReady }

// Outcome reports the error of a backend call made while Ready (serving a
// request, or checking leadership); the requester was answered already. A
// fence is final; a backend error with an unknown outcome
// (durable.ErrBackend) fails the incarnation; anything else (a client's
// own error) changes nothing.
func (c *Core) Outcome(err error) Effects {
	var fe *durable.FenceError
	switch {
	case err == nil:
		return Effects{}
	case errors.As(err, &fe):
		return c.finish(EvFenced{}, fe)
	case errors.Is(err, durable.ErrBackend):
		return c.fail(err)
	}
	return Effects{}
}

// Promoted reports whether Promote began: the guardian opens with
// Config.Promote from then on.
func (c *Core) Promoted() bool { return c.promoted }

// Promote takes a read-only guardian's Promote request while Ready: it
// reopens the catalog (with Config.Promote, since Promoted is now true)
// and r waits, first in line, to be served once Ready again, where it is
// answered with the new token. The caller checks first that the guardian
// can be promoted and is not promoted already.
func (c *Core) Promote(r Request) Effects {
	c.move(EvPromote{})
	c.promoted = true
	c.pending = append([]Request{r}, c.pending...)
	return Effects{StopTimers: true, Open: true}
}

// Stopping reports that the guardian is stopping: its timers stop, and
// no later incarnation opens the catalog or starts one.
func (c *Core) Stopping() Effects {
	c.stopping = true
	return Effects{StopTimers: true}
}

// IsStopping reports whether Stopping came.
func (c *Core) IsStopping() bool { return c.stopping }

// Restarting reports that the supervisor restarts the guardian.
func (c *Core) Restarting() Effects {
	c.move(EvRestarting{})
	return Effects{StopTimers: true}
}

// fail records a transient failure: the incarnation fails, and the next
// one backs off before reopening.
func (c *Core) fail(err error) Effects {
	c.move(EvTransient{})
	c.failures++
	c.lastErr = err
	return Effects{Fail: &TransientFailure{Err: err}}
}

// finish enters Fenced or Halted for good: it stops the timers, answers
// every waiting request with err, publishes a fence and asks the node to
// halt, once.
func (c *Core) finish(ev Event, err error) Effects {
	if c.phase.final() {
		return Effects{}
	}
	c.move(ev)
	c.final = err
	eff := Effects{StopTimers: true}
	for _, r := range c.pending {
		eff.Answers = append(eff.Answers, Answer{To: r.Sender, Msg: failed(r.Msg, err)})
	}
	c.pending = nil
	var fe *durable.FenceError
	switch {
	case !errors.As(err, &fe):
		eff.Halt = fmt.Sprintf("%v; halting", err)
	case fe.Kind == durable.FenceMigrationUpper:
		eff.Fenced = &Fenced{Current: fe.Current, Fence: fe.Fence, Err: fe}
		eff.Halt = fmt.Sprintf("%v; halting", fe)
	default:
		eff.Fenced = &Fenced{Current: fe.Current, Fence: fe.Fence, Err: fe}
		eff.Halt = fmt.Sprintf("catalog fenced by a newer environment: this node's token is %s, the catalog's is %s (%s); halting", fe.Current, fe.Fence, fe.Kind)
	}
	return eff
}

// failed builds the response to msg that carries err.
func failed(msg any, err error) any {
	switch msg.(type) {
	case *Transact:
		return &TransactResult{Err: err}
	case *GetSnapshot:
		return &SnapshotResult{Err: err}
	case *AllocateIds:
		return &IdsAllocated{Err: err}
	case *Promote:
		return &PromoteResult{Err: err}
	}
	panic(fmt.Sprintf("catalog: no response type for %T", msg))
}
