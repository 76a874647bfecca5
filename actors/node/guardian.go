package node

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/surface"
)

// ErrDuplicateSubsystem is returned when a subsystem name is already in use.
var ErrDuplicateSubsystem = errors.New("node: subsystem already running")

// Policy bounds how often the guardian restarts a failing subsystem.
type Policy struct {
	MaxRestarts int           // restarts allowed within Within; then the subsystem is stopped
	Within      time.Duration // the sliding window for MaxRestarts
}

// DefaultPolicy allows 10 restarts a minute.
var DefaultPolicy = Policy{MaxRestarts: 10, Within: time.Minute}

// Config configures the guardian. All fields are optional.
type Config struct {
	Policy Policy
	Logger *slog.Logger
	// OnRestart is called (from the guardian's goroutine) each time a
	// subsystem fails, before the strategy restarts or stops it; the node
	// counts it in a metric.
	OnRestart func(name string, reason any)
	// OnSubsystemStopped is called when a subsystem stops without being
	// asked to (it exhausted its restarts or stopped itself).
	OnSubsystemStopped func(name string)
	// Registerer receives the guardian's counters of unknown messages and
	// of messages refused from remote senders; nil means unregistered.
	Registerer prometheus.Registerer
}

// SpawnSubsystem asks the guardian to spawn a child.
type SpawnSubsystem struct {
	Name  string
	Props *actor.Props
}

// SubsystemSpawned answers SpawnSubsystem.
type SubsystemSpawned struct{ PID *actor.PID }

// SpawnFailed answers SpawnSubsystem when the child could not be spawned.
type SpawnFailed struct{ Err error }

// StopSubsystem asks the guardian to stop a subsystem on purpose: unlike a
// subsystem that stops on its own, it is not reported through
// OnSubsystemStopped. Answered with SubsystemStopped once the subsystem
// (and its children) terminated, or at once when no subsystem has that
// name. The node stops its subsystems this way, one at a time in the
// reverse of their start order, before it stops the guardian.
type StopSubsystem struct{ Name string }

// SubsystemStopped answers StopSubsystem.
type SubsystemStopped struct{ Name string }

// ListSubsystems asks for the names of running subsystems.
type ListSubsystems struct{}

// SubsystemList answers ListSubsystems.
type SubsystemList struct{ Names []string }

// New returns the guardian's props with its explicit supervision strategy.
// Every message the guardian serves is a local Go struct, so it accepts
// nothing from remote senders: a remote message is dropped, counted and,
// when it has a sender, answered with messages.UnknownMessageReply
// (surface.AllowRemote), as is a local message it does not know
// (surface.Unhandled). It fails only when its metrics cannot be registered.
func New(cfg Config) (*actor.Props, error) {
	if cfg.Policy == (Policy{}) {
		cfg.Policy = DefaultPolicy
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	unhandled, err := surface.NewUnhandled("node", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	allow, err := surface.AllowRemote(surface.AllowConfig{Actor: "node", Logger: cfg.Logger, Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	g := &guardian{cfg: cfg, unhandled: unhandled, children: map[string]*actor.PID{}, stopping: map[string]bool{},
		waiting: map[string][]*actor.PID{}}
	strategy := reportingStrategy{
		inner: actor.NewOneForOneStrategy(cfg.Policy.MaxRestarts, cfg.Policy.Within, restartAlways),
		g:     g,
	}
	return actor.PropsFromProducer(func() actor.Actor { return g },
		actor.WithSupervisor(strategy), actor.WithReceiverMiddleware(allow)), nil
}

// restartAlways restarts on any failure; the one-for-one window turns a
// restart into a stop once a child fails too often.
func restartAlways(any) actor.Directive { return actor.RestartDirective }

// reportingStrategy reports each failure with the subsystem's name, then lets
// the one-for-one strategy decide. protoactor runs HandleFailure while the
// guardian processes the failure, so reading the guardian's state is safe.
type reportingStrategy struct {
	inner actor.SupervisorStrategy
	g     *guardian
}

func (s reportingStrategy) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason any, msg any) {
	name := s.g.nameOf(child)
	s.g.cfg.Logger.Warn("subsystem failed", "name", name, "reason", fmt.Sprint(reason), "failures_in_window", rs.FailureCount()+1)
	if s.g.cfg.OnRestart != nil {
		s.g.cfg.OnRestart(name, reason)
	}
	s.inner.HandleFailure(sys, sup, child, rs, reason, msg)
}

// guardian is the actor; its state is touched only while it processes a
// message (supervision included).
type guardian struct {
	cfg       Config
	unhandled *surface.Unhandled
	children  map[string]*actor.PID
	stopping  map[string]bool
	// waiting are the senders of StopSubsystem, by subsystem, answered when
	// it has terminated.
	waiting map[string][]*actor.PID
}

func (g *guardian) nameOf(pid *actor.PID) string {
	for name, p := range g.children {
		if p.Equal(pid) {
			return name
		}
	}
	return pid.String()
}

func (g *guardian) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SpawnSubsystem:
		g.handleSpawn(ctx, m)
	case *StopSubsystem:
		g.handleStopSubsystem(ctx, m)
	case *ListSubsystems:
		names := make([]string, 0, len(g.children))
		for n := range g.children {
			names = append(names, n)
		}
		sort.Strings(names)
		ctx.Respond(&SubsystemList{Names: names})
	case *actor.Terminated:
		g.handleTerminated(ctx, m)
	case *actor.Stopping:
		for n := range g.children {
			g.stopping[n] = true
		}
	default:
		g.unhandled.Handle(ctx)
	}
}

func (g *guardian) handleSpawn(ctx actor.Context, m *SpawnSubsystem) {
	if _, ok := g.children[m.Name]; ok {
		ctx.Respond(&SpawnFailed{Err: fmt.Errorf("%w: %q", ErrDuplicateSubsystem, m.Name)})
		return
	}
	pid, err := ctx.SpawnNamed(m.Props, m.Name)
	if err != nil {
		ctx.Respond(&SpawnFailed{Err: fmt.Errorf("node: spawn subsystem %q: %w", m.Name, err)})
		return
	}
	ctx.Watch(pid)
	g.children[m.Name] = pid
	g.cfg.Logger.Info("subsystem started", "name", m.Name, "pid", pid.String())
	ctx.Respond(&SubsystemSpawned{PID: pid})
}

func (g *guardian) handleStopSubsystem(ctx actor.Context, m *StopSubsystem) {
	pid, ok := g.children[m.Name]
	if !ok {
		ctx.Respond(&SubsystemStopped{Name: m.Name})
		return
	}
	g.stopping[m.Name] = true
	if ctx.Sender() != nil {
		g.waiting[m.Name] = append(g.waiting[m.Name], ctx.Sender())
	}
	g.cfg.Logger.Info("stopping subsystem", "name", m.Name)
	ctx.Stop(pid)
}

func (g *guardian) handleTerminated(ctx actor.Context, m *actor.Terminated) {
	for name, pid := range g.children {
		if !pid.Equal(m.Who) {
			continue
		}
		delete(g.children, name)
		for _, w := range g.waiting[name] {
			ctx.Send(w, &SubsystemStopped{Name: name})
		}
		delete(g.waiting, name)
		if g.stopping[name] {
			delete(g.stopping, name)
			return
		}
		g.cfg.Logger.Error("subsystem stopped", "name", name)
		if g.cfg.OnSubsystemStopped != nil {
			g.cfg.OnSubsystemStopped(name)
		}
		return
	}
}
