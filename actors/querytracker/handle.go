package querytracker

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
)

// DefaultDumpTimeout bounds Handle.Dump when it is given no timeout.
const DefaultDumpTimeout = 5 * time.Second

// Handle is how in-process callers talk to the tracker actor. Send never
// blocks and never fails: commands go into the actor's unbounded mailbox,
// and a command sent after the tracker stopped is logged, counted in
// arbor_querytracker_sends_after_stop_total and dropped. A Handle is safe
// for concurrent use.
type Handle struct {
	pid  *actor.PID
	root *actor.RootContext
	sh   *shared
}

// Spawn is New, spawned under root (named cfg.Name when set), with a
// Handle on the actor. The actor is stopped by Handle.Stop (or by
// stopping its PID); it starts no goroutines of its own.
func Spawn(root *actor.RootContext, cfg Config) (*Handle, error) {
	props, sh, err := build(cfg)
	if err != nil {
		return nil, err
	}
	var pid *actor.PID
	if sh.cfg.Name != "" {
		if pid, err = root.SpawnNamed(props, sh.cfg.Name); err != nil {
			return nil, fmt.Errorf("querytracker: spawn %q: %w", sh.cfg.Name, err)
		}
	} else {
		pid = root.SpawnPrefix(props, "querytracker")
	}
	return &Handle{pid: pid, root: root, sh: sh}, nil
}

// NewWithHandle is New for a caller that spawns the props itself (a node
// spawns its subsystems under its root guardian): bind makes the Handle on
// the PID the props were spawned at. Spawn the props once.
func NewWithHandle(root *actor.RootContext, cfg Config) (props *actor.Props, bind func(*actor.PID) *Handle, err error) {
	props, sh, err := build(cfg)
	if err != nil {
		return nil, nil, err
	}
	return props, func(pid *actor.PID) *Handle { return &Handle{pid: pid, root: root, sh: sh} }, nil
}

// PID is the tracker actor's address. Remote senders send messages.Qt*
// commands to it.
func (h *Handle) PID() *actor.PID { return h.pid }

// Send delivers a command without waiting. It never blocks and never
// reports failure to the caller.
func (h *Handle) Send(cmd Command) {
	if cmd == nil {
		h.sh.cfg.Logger.Warn("query tracker: nil command dropped")
		return
	}
	if h.sh.stopped.Load() {
		h.sh.metrics.SendsAfterStop.Inc()
		h.sh.cfg.Logger.Warn("query tracker: command sent after stop dropped", "command", fmt.Sprintf("%T", cmd))
		return
	}
	h.root.Send(h.pid, cmd)
}

// Stopped reports whether the tracker actor has begun stopping.
func (h *Handle) Stopped() bool { return h.sh.stopped.Load() }

// Dump asks the tracker for its state as JSON (see DumpState) and waits up
// to timeout (DefaultDumpTimeout when not positive). Unlike Send it
// blocks; it is for debugging and tests, and must not be called from an
// actor's Receive. A tracker that does not answer in time fails it with
// an error matching messages.ErrTimeout.
func (h *Handle) Dump(timeout time.Duration) ([]byte, error) {
	if h.sh.stopped.Load() {
		return nil, ErrTrackerStopped
	}
	if timeout <= 0 {
		timeout = DefaultDumpTimeout
	}
	res, err := h.root.RequestFuture(h.pid, &messages.QtDump{}, timeout).Result()
	if errors.Is(err, actor.ErrTimeout) {
		return nil, fmt.Errorf("querytracker: dump: %w after %s", messages.ErrTimeout, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("querytracker: dump: %w", err)
	}
	d, ok := res.(*messages.QtDumpResponse)
	if !ok {
		return nil, fmt.Errorf("querytracker: dump: unexpected reply %T", res)
	}
	return d.GetJson(), nil
}

// Stop stops the tracker actor after it has processed the commands already
// in its mailbox, and waits until it has stopped (protoactor bounds the wait
// at 10 s). Peeks still tracked are then canceled and their executions
// retired with an error, so no handle is left unretired. Stopping twice is
// harmless.
func (h *Handle) Stop() error {
	if h.sh.stopped.Load() {
		return nil
	}
	if err := h.root.PoisonFuture(h.pid).Wait(); err != nil {
		return fmt.Errorf("querytracker: stop: %w", err)
	}
	return nil
}
