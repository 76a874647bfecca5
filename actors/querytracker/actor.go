package querytracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
)

// Options configure the tracker actor.
type Options struct {
	// Config tunes the state machine.
	Config Config
	// Effects performs the tracker's side effects; required. It is called
	// from the actor's Receive and must not block.
	Effects Effects
	// Clock supplies the time of each command; clock.Real() when nil.
	Clock clock.Clock
	// Metrics receives the tracker's metrics; unregistered ones when nil.
	Metrics *Metrics
	// Logger receives ignored commands and lifecycle events; slog.Default()
	// when nil.
	Logger *slog.Logger
	// Name spawns the actor under this name; a generated one when empty.
	Name string
}

func (o *Options) fill() error {
	if o.Effects == nil {
		return errors.New("querytracker: Options.Effects is required")
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Metrics == nil {
		m, err := NewMetrics(nil)
		if err != nil {
			return err
		}
		o.Metrics = m
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Logger = o.Logger.With("actor", "querytracker")
	return nil
}

// lifecycle is shared by the actor and its Handle: the actor marks it
// stopped, the Handle reads it to drop sends instead of dead-lettering them.
type lifecycle struct {
	stopped atomic.Bool
}

// trackerActor is the thin actor around a Tracker: Receive reads the clock,
// decodes protobuf commands, delegates to the Tracker, logs and counts what
// was ignored, and refreshes the gauges. All tracker state is confined to
// this actor.
type trackerActor struct {
	opts    Options
	life    *lifecycle
	tracker *Tracker
}

func newTrackerActor(opts Options, life *lifecycle) *trackerActor {
	return &trackerActor{
		opts:    opts,
		life:    life,
		tracker: New(opts.Config, meteredEffects{Effects: opts.Effects, metrics: opts.Metrics}),
	}
}

// Receive handles one message. Commands arrive as Go values (from a
// Handle) or as messages.Qt* protobufs (from anywhere, including other
// nodes); QtDump is answered with QtDumpResponse.
func (a *trackerActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.opts.Logger.Debug("query tracker started", "pid", ctx.Self())
		return
	case *actor.Stopping:
		a.life.stopped.Store(true)
		a.abandon("query tracker stopped")
	case *actor.Restarting:
		// The next incarnation starts empty: end what this one owed.
		a.opts.Logger.Error("query tracker restarting; ending every tracked peek", "peeks", a.tracker.TrackedPeeks())
		a.abandon("query tracker restarted")
	case *actor.Stopped:
		a.opts.Logger.Debug("query tracker stopped")
		return
	case Command:
		a.apply(m)
	case *messages.QtDump:
		now := a.opts.Clock.Now()
		ctx.Respond(&messages.QtDumpResponse{Json: a.tracker.Dump(now).JSON()})
	default:
		cmd, err := Decode(m)
		if err != nil {
			a.opts.Logger.Warn("query tracker: bad message", "sender", ctx.Sender(), "type", fmt.Sprintf("%T", m), "err", err)
		}
		if cmd != nil {
			a.apply(cmd) // counts the error it returns
		} else {
			a.opts.Metrics.IgnoredCommands.WithLabelValues(ignoredKind(err)).Inc()
		}
	}
	a.refreshGauges()
}

// apply runs one command at the clock's current time.
func (a *trackerActor) apply(cmd Command) {
	err := a.tracker.Apply(a.opts.Clock.Now(), cmd)
	if err == nil {
		return
	}
	kind := ignoredKind(err)
	a.opts.Metrics.IgnoredCommands.WithLabelValues(kind).Inc()
	if errors.Is(err, ErrAlreadyRetired) {
		a.opts.Metrics.DoubleRetirements.Inc()
		a.opts.Logger.Warn("query tracker: execution handle retired twice", "err", err)
		return
	}
	// Late and duplicate commands are normal under fire-and-forget; bad
	// input is not.
	level := slog.LevelDebug
	if kind == "invalid" {
		level = slog.LevelWarn
	}
	a.opts.Logger.Log(context.Background(), level, "query tracker: command ignored", "kind", kind, "err", err)
}

// abandon ends everything the tracker holds; it never panics itself.
func (a *trackerActor) abandon(message string) {
	defer func() {
		if r := recover(); r != nil {
			a.opts.Logger.Error("query tracker: abandoning state panicked", "panic", r)
		}
	}()
	a.tracker.Abandon(a.opts.Clock.Now(), message)
}

func (a *trackerActor) refreshGauges() {
	a.opts.Metrics.TrackedPeeks.Set(float64(a.tracker.TrackedPeeks()))
	a.opts.Metrics.Tombstones.Set(float64(a.tracker.Tombstones()))
	a.opts.Metrics.UnretiredExecutions.Set(float64(a.tracker.LiveExecutions()))
}
