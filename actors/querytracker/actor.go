package querytracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
)

// Config configures the tracker actor.
type Config struct {
	// Tracker tunes the state machine.
	Tracker TrackerConfig
	// Effects performs the tracker's side effects; required. It is called
	// from the actor's Receive and must not block.
	Effects Effects
	// Clock supplies the time of each command; clock.Real() when nil.
	Clock clock.Clock
	// Registerer receives the tracker's metrics (shared with another
	// tracker on the same registry); unregistered when nil.
	Registerer prometheus.Registerer
	// Logger receives ignored commands and lifecycle events; slog.Default()
	// when nil.
	Logger *slog.Logger
	// Name is the name Spawn gives the actor; a generated one when empty.
	Name string
}

func (c *Config) fill() error {
	if c.Effects == nil {
		return errors.New("querytracker: Config.Effects is required")
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "querytracker")
	return nil
}

// New returns the props of a query tracker actor. It fails when the
// config has no Effects or the metrics cannot be registered. Spawn one
// actor from the props; a restarted incarnation starts empty after
// ending what the previous one held. In-process callers that want a
// Handle use Spawn.
func New(cfg Config) (*actor.Props, error) {
	props, _, err := build(cfg)
	return props, err
}

// shared is what the actor's incarnations and its Handle share: built by
// New once per props.
type shared struct {
	cfg       Config
	metrics   *Metrics
	unhandled *surface.Unhandled
	// stopped is set by the actor when it stops; the Handle reads it to
	// drop sends instead of dead-lettering them.
	stopped atomic.Bool
}

func build(cfg Config) (*actor.Props, *shared, error) {
	if err := cfg.fill(); err != nil {
		return nil, nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, nil, err
	}
	unhandled, err := surface.NewUnhandled("querytracker", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, nil, fmt.Errorf("querytracker: %w", err)
	}
	sh := &shared{cfg: cfg, metrics: m, unhandled: unhandled}
	return actor.PropsFromProducer(func() actor.Actor { return newTrackerActor(sh) }), sh, nil
}

// trackerActor is the thin actor around a Tracker: Receive reads the clock,
// decodes protobuf commands, delegates to the Tracker, logs and counts what
// was ignored, and refreshes the gauges. All tracker state is confined to
// this actor.
type trackerActor struct {
	*shared
	tracker *Tracker
}

func newTrackerActor(sh *shared) *trackerActor {
	return &trackerActor{
		shared:  sh,
		tracker: NewTracker(sh.cfg.Tracker, meteredEffects{Effects: sh.cfg.Effects, metrics: sh.metrics}),
	}
}

// Receive handles one message. Commands arrive as Go values (from a
// Handle) or as messages.Qt* protobufs (from anywhere, including other
// nodes); QtDump is answered with QtDumpResponse. Anything else goes to
// surface.Unhandled.
func (a *trackerActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.cfg.Logger.Debug("query tracker started", "pid", ctx.Self())
		return
	case *actor.Stopping:
		a.stopped.Store(true)
		a.abandon("query tracker stopped")
	case *actor.Restarting:
		// The next incarnation starts empty: end what this one owed.
		a.cfg.Logger.Error("query tracker restarting; ending every tracked peek", "peeks", a.tracker.TrackedPeeks())
		a.abandon("query tracker restarted")
	case *actor.Stopped:
		a.cfg.Logger.Debug("query tracker stopped")
		return
	case Command:
		a.apply(m)
	case *messages.QtDump:
		now := a.cfg.Clock.Now()
		ctx.Respond(&messages.QtDumpResponse{Json: a.tracker.Dump(now).JSON()})
	default:
		if !IsWireCommand(m) {
			a.unhandled.Handle(ctx)
			return
		}
		cmd, err := Decode(m)
		if err != nil {
			a.cfg.Logger.Warn("query tracker: malformed command", "sender", ctx.Sender(), "type", surface.TypeName(m), "err", err)
		}
		if cmd != nil {
			a.apply(cmd) // counts the error it returns
		} else {
			a.metrics.IgnoredCommands.WithLabelValues(ignoredKind(err)).Inc()
		}
	}
	a.refreshGauges()
}

// apply runs one command at the clock's current time.
func (a *trackerActor) apply(cmd Command) {
	err := a.tracker.Apply(a.cfg.Clock.Now(), cmd)
	if err == nil {
		return
	}
	kind := ignoredKind(err)
	a.metrics.IgnoredCommands.WithLabelValues(kind).Inc()
	if errors.Is(err, ErrAlreadyRetired) {
		a.metrics.DoubleRetirements.Inc()
		a.cfg.Logger.Warn("query tracker: execution handle retired twice", "err", err)
		return
	}
	// Late and duplicate commands are normal under fire-and-forget; bad
	// input is not.
	level := slog.LevelDebug
	if kind == "invalid" {
		level = slog.LevelWarn
	}
	a.cfg.Logger.Log(context.Background(), level, "query tracker: command ignored", "kind", kind, "err", err)
}

// abandon ends everything the tracker holds; it never panics itself.
func (a *trackerActor) abandon(message string) {
	defer func() {
		if r := recover(); r != nil {
			a.cfg.Logger.Error("query tracker: abandoning state panicked", "panic", r)
		}
	}()
	a.tracker.Abandon(a.cfg.Clock.Now(), message)
}

func (a *trackerActor) refreshGauges() {
	a.metrics.TrackedPeeks.Set(float64(a.tracker.TrackedPeeks()))
	a.metrics.Tombstones.Set(float64(a.tracker.Tombstones()))
	a.metrics.UnretiredExecutions.Set(float64(a.tracker.LiveExecutions()))
}
