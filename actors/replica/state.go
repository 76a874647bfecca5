package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// StateConfig configures a ReplicaState.
type StateConfig struct {
	// Replica is the replica's id (required).
	Replica timely.ReplicaId
	// Launcher starts runtimes (required).
	Launcher Launcher
	// LaunchTimeout bounds one Launch; 10s when zero.
	LaunchTimeout time.Duration
	// Logger: slog.Default() when nil.
	Logger *slog.Logger
	// Registerer receives the unknown-message counter; nil: unregistered.
	Registerer prometheus.Registerer
}

func (c *StateConfig) fill() error {
	if c.Launcher == nil {
		return errors.New("replica: config: Launcher is required")
	}
	if c.Replica.Kind == 0 {
		return errors.New("replica: config: Replica is required")
	}
	if c.LaunchTimeout == 0 {
		c.LaunchTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "replica", "replica", c.Replica.String())
	return nil
}

// connection is where a ReplicaState's link to its runtime is:
//
//	down ──Connect──► launching ──launched ok──► connected ──Terminated──► down
//	                      │                          │
//	                      └──launch failed──► down   └──Connect──► launching
//
// Every arrow into down reports Failed (once per incarnation); a Connect
// from any state abandons the current runtime and starts the next
// incarnation.
type connection uint8

const (
	down connection = iota
	launching
	connected
)

func (c connection) String() string {
	switch c {
	case launching:
		return "launching"
	case connected:
		return "connected"
	}
	return "down"
}

// NewState returns the props of a ReplicaState, the child of an Instance
// actor that holds the connection to one replica's runtime. Its parent
// receives Response and Failed messages.
func NewState(cfg StateConfig) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	un, err := surface.NewUnhandled("replica", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &stateActor{cfg: cfg, unhandled: un, collections: map[timely.GlobalId]*CollectionFrontiers{}}
	}), nil
}

// launched is the result of a Launch, from the launching goroutine.
type launched struct {
	incarnation uint64
	pid         *actor.PID
	err         error
}

type stateActor struct {
	cfg       StateConfig
	unhandled *surface.Unhandled

	// guarded by the actor.
	incarnation uint64
	conn        connection
	runtime     *actor.PID
	queue       []*messages.ComputeCommand
	collections map[timely.GlobalId]*CollectionFrontiers

	// the launching goroutine: canceled and waited for on Connect and stop.
	cancelLaunch context.CancelFunc
	launches     sync.WaitGroup
}

func (a *stateActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
	case *actor.Stopping:
		a.abandon(ctx)
	case *actor.Restarting:
		// The new actor starts with no connection: tell the instance, so
		// that the restart policy brings the replica back.
		wasUp := a.conn != down
		a.abandon(ctx)
		if wasUp {
			ctx.Send(ctx.Parent(), Failed{Replica: a.cfg.Replica, Incarnation: a.incarnation, Err: fmt.Errorf("%w: replica state restarted", ErrRuntimeTerminated)})
		}
	case Connect:
		a.handleConnect(ctx, m)
	case *Connect:
		a.handleConnect(ctx, *m)
	case launched:
		a.handleLaunched(ctx, m)
	case Send:
		a.handleSend(ctx, m)
	case *Send:
		a.handleSend(ctx, *m)
	case *messages.ComputeResponse:
		a.handleResponse(ctx, m)
	case *actor.Terminated:
		a.handleTerminated(ctx, m)
	case DumpState, *DumpState:
		ctx.Respond(a.dump())
	default:
		a.unhandled.Handle(ctx)
	}
}

// abandon cancels a launch in flight and stops the current runtime.
func (a *stateActor) abandon(ctx actor.Context) {
	if a.cancelLaunch != nil {
		a.cancelLaunch()
		a.cancelLaunch = nil
	}
	a.launches.Wait()
	if a.runtime != nil {
		ctx.Unwatch(a.runtime)
		ctx.Poison(a.runtime)
		a.runtime = nil
	}
	a.conn = down
	a.queue = nil
}

func (a *stateActor) handleConnect(ctx actor.Context, m Connect) {
	if m.Incarnation <= a.incarnation {
		a.cfg.Logger.Warn("connect for an old incarnation ignored", "incarnation", m.Incarnation, "current", a.incarnation)
		return
	}
	a.abandon(ctx)
	a.incarnation = m.Incarnation
	a.conn = launching
	a.queue = append([]*messages.ComputeCommand(nil), m.Commands...)
	a.collections = map[timely.GlobalId]*CollectionFrontiers{}
	lctx, cancel := context.WithTimeout(context.Background(), a.cfg.LaunchTimeout)
	a.cancelLaunch = cancel
	self, sys, inc, id := ctx.Self(), ctx.ActorSystem(), m.Incarnation, a.cfg.Replica
	a.launches.Add(1)
	go func() {
		defer a.launches.Done()
		defer cancel()
		pid, err := a.cfg.Launcher.Launch(lctx, id, inc)
		if err == nil && pid == nil {
			err = errors.New("launcher returned no runtime")
		}
		if err == nil && lctx.Err() != nil {
			// Abandoned while launching: nobody will own this runtime.
			sys.Root.Poison(pid)
			return
		}
		sys.Root.Send(self, launched{incarnation: inc, pid: pid, err: err})
	}()
	a.cfg.Logger.Info("launching runtime", "incarnation", inc)
}

func (a *stateActor) handleLaunched(ctx actor.Context, m launched) {
	if m.incarnation != a.incarnation || a.conn != launching {
		if m.pid != nil {
			ctx.Poison(m.pid)
		}
		return
	}
	a.cancelLaunch = nil
	if m.err != nil {
		a.fail(ctx, fmt.Errorf("%w: incarnation %d: %v", ErrLaunchFailed, m.incarnation, m.err))
		return
	}
	a.runtime, a.conn = m.pid, connected
	ctx.Watch(m.pid)
	for _, cmd := range a.queue {
		ctx.Request(a.runtime, cmd)
	}
	a.queue = nil
	a.cfg.Logger.Info("runtime connected", "incarnation", m.incarnation, "runtime", m.pid.String())
}

func (a *stateActor) handleSend(ctx actor.Context, m Send) {
	if m.Command.GetEpoch().GetIncarnation() != a.incarnation {
		return
	}
	switch a.conn {
	case launching:
		a.queue = append(a.queue, m.Command)
	case connected:
		ctx.Request(a.runtime, m.Command)
	}
}

func (a *stateActor) handleResponse(ctx actor.Context, m *messages.ComputeResponse) {
	current := m.GetEpoch().GetIncarnation() == a.incarnation && a.conn == connected
	if current {
		a.track(m)
	}
	ctx.Send(ctx.Parent(), Response{Replica: a.cfg.Replica, Response: m})
	if st := m.GetStatus(); current && st.GetRestarted() {
		// The runtime restarted after a failure and lost every dataflow
		// of this incarnation: replace it, as if it had terminated, so
		// that the instance relaunches the replica and replays its
		// history. Left alone, the replica would stay active over an
		// empty runtime.
		rt := a.runtime
		ctx.Unwatch(rt)
		ctx.Poison(rt)
		a.runtime = nil
		a.fail(ctx, fmt.Errorf("%w: incarnation %d: %v", ErrRuntimeRestarted, a.incarnation, messages.ErrorFromWire(st.GetError())))
	}
}

// track keeps the frontiers and hydration the runtime reports, for dumps.
func (a *stateActor) track(m *messages.ComputeResponse) {
	get := func(pid *messages.GlobalId) *CollectionFrontiers {
		id, err := pid.ToTimely()
		if err != nil {
			return nil
		}
		cf := a.collections[id]
		if cf == nil {
			cf = &CollectionFrontiers{Id: id.String(), Write: "[0]", Input: "[0]", Output: "[0]"}
			a.collections[id] = cf
		}
		return cf
	}
	set := func(dst *string, f *messages.Frontier) {
		if f == nil {
			return
		}
		if t, err := f.ToTimely(); err == nil {
			*dst = t.String()
		}
	}
	switch r := m.Response.(type) {
	case *messages.ComputeResponse_Frontiers:
		if cf := get(r.Frontiers.GetId()); cf != nil {
			set(&cf.Write, r.Frontiers.GetWrite())
			set(&cf.Input, r.Frontiers.GetInput())
			set(&cf.Output, r.Frontiers.GetOutput())
		}
	case *messages.ComputeResponse_Status:
		for _, h := range r.Status.GetHydration() {
			if cf := get(h.GetId()); cf != nil {
				cf.Hydrated = cf.Hydrated || h.GetHydrated()
			}
		}
	}
}

func (a *stateActor) handleTerminated(ctx actor.Context, m *actor.Terminated) {
	if a.runtime == nil || !m.GetWho().Equal(a.runtime) {
		return
	}
	a.runtime = nil
	a.fail(ctx, fmt.Errorf("%w: incarnation %d (%s)", ErrRuntimeTerminated, a.incarnation, m.GetWhy()))
}

func (a *stateActor) fail(ctx actor.Context, err error) {
	a.conn = down
	a.queue = nil
	a.cfg.Logger.Warn("replica failed", "incarnation", a.incarnation, "err", err)
	ctx.Send(ctx.Parent(), Failed{Replica: a.cfg.Replica, Incarnation: a.incarnation, Err: err})
}

func (a *stateActor) dump() StateDump {
	d := StateDump{Replica: a.cfg.Replica.String(), Incarnation: a.incarnation, Connection: a.conn.String(), Queued: len(a.queue)}
	if a.runtime != nil {
		d.Runtime = a.runtime.String()
	}
	for _, cf := range a.collections {
		d.Collections = append(d.Collections, *cf)
	}
	slices.SortFunc(d.Collections, func(x, y CollectionFrontiers) int {
		if x.Id < y.Id {
			return -1
		}
		if x.Id > y.Id {
			return 1
		}
		return 0
	})
	return d
}
