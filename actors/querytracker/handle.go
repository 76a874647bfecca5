package querytracker

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
)

// Handle is how in-process callers talk to the tracker actor. Send never
// blocks and never fails: commands go into the actor's unbounded mailbox,
// and a command sent after the tracker stopped is logged, counted in
// arbor_querytracker_sends_after_stop_total and dropped. A Handle is safe
// for concurrent use.
type Handle struct {
	pid     *actor.PID
	root    *actor.RootContext
	life    *lifecycle
	metrics *Metrics
	logger  *slog.Logger
}

// Spawn starts a tracker actor under root and returns its Handle. The actor
// is stopped by Handle.Stop (or by stopping its PID); it starts no
// goroutines of its own.
func Spawn(root *actor.RootContext, opts Options) (*Handle, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	life := &lifecycle{}
	props := actor.PropsFromProducer(func() actor.Actor { return newTrackerActor(opts, life) })
	var pid *actor.PID
	if opts.Name != "" {
		var err error
		if pid, err = root.SpawnNamed(props, opts.Name); err != nil {
			return nil, fmt.Errorf("querytracker: spawn %q: %w", opts.Name, err)
		}
	} else {
		pid = root.SpawnPrefix(props, "querytracker")
	}
	return &Handle{pid: pid, root: root, life: life, metrics: opts.Metrics, logger: opts.Logger}, nil
}

// PID is the tracker actor's address. Remote senders send messages.Qt*
// commands to it.
func (h *Handle) PID() *actor.PID { return h.pid }

// Send delivers a command without waiting. It never blocks and never
// reports failure to the caller.
func (h *Handle) Send(cmd Command) {
	if cmd == nil {
		h.logger.Warn("query tracker: nil command dropped")
		return
	}
	if h.life.stopped.Load() {
		h.metrics.SendsAfterStop.Inc()
		h.logger.Warn("query tracker: command sent after stop dropped", "command", fmt.Sprintf("%T", cmd))
		return
	}
	h.root.Send(h.pid, cmd)
}

// Stopped reports whether the tracker actor has begun stopping.
func (h *Handle) Stopped() bool { return h.life.stopped.Load() }

// Dump asks the tracker for its state as JSON (see DumpState) and waits up
// to timeout. Unlike Send it blocks; it is for debugging and tests.
func (h *Handle) Dump(timeout time.Duration) ([]byte, error) {
	if h.life.stopped.Load() {
		return nil, ErrTrackerStopped
	}
	res, err := h.root.RequestFuture(h.pid, &messages.QtDump{}, timeout).Result()
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
	if h.life.stopped.Load() {
		return nil
	}
	if err := h.root.PoisonFuture(h.pid).Wait(); err != nil {
		return fmt.Errorf("querytracker: stop: %w", err)
	}
	return nil
}
