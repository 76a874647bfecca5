package instance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/supervision"
	"github.com/arbor-db/arbor/timely"
)

// Config configures an Instance actor.
type Config struct {
	// Cluster and ClusterName describe the instance to its replicas.
	Cluster     timely.ClusterId
	ClusterName string
	// EnvironmentEpoch stamps every connection (with the incarnation).
	EnvironmentEpoch uint64
	// Launcher starts replica runtimes (required).
	Launcher replica.Launcher
	// Restarts returns a replica's restart tracker. Nil: a
	// replica.Supervised tracker applying RestartPolicy, seeded from the
	// cluster and replica ids so that a run replays.
	Restarts func(timely.ReplicaId) replica.RestartTracker
	// RestartPolicy is the policy of the default trackers; the zero value
	// means supervision.DefaultPolicy().
	RestartPolicy supervision.Policy
	// StorageHolds receives the instance's read-hold changes on storage
	// collections, in order. It is called from Receive and must not block.
	// Nil: the changes are logged at debug level only.
	StorageHolds func([]StorageHoldChange)
	// Clock drives Maintain and stamps every step; clock.Real() when nil.
	Clock clock.Clock
	// MaintainInterval: 1s when zero.
	MaintainInterval time.Duration
	// LaunchTimeout bounds one runtime launch; 10s when zero.
	LaunchTimeout time.Duration
	// Logger: slog.Default() when nil.
	Logger *slog.Logger
	// Registerer receives the metrics; nil: unregistered.
	Registerer prometheus.Registerer
	// ReadOnly starts the instance read-only: its materialized views get
	// no AllowWrites until the AllowWrites message (read_only.go).
	ReadOnly bool
}

func (c *Config) fill() error {
	if c.Launcher == nil {
		return errors.New("instance: config: Launcher is required")
	}
	if c.Restarts == nil {
		policy := c.RestartPolicy
		if policy == (supervision.Policy{}) {
			policy = supervision.DefaultPolicy()
		}
		if err := policy.Validate(); err != nil {
			return fmt.Errorf("instance: config: RestartPolicy: %w", err)
		}
		cluster := c.Cluster
		c.Restarts = func(id timely.ReplicaId) replica.RestartTracker {
			seed := uint64(cluster.Kind)<<56 ^ cluster.Value<<32 ^ uint64(id.Kind)<<24 ^ id.Value
			t, err := replica.NewSupervised(policy, seed)
			if err != nil { // validated above
				panic(err)
			}
			return t
		}
	}
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.MaintainInterval == 0 {
		c.MaintainInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "instance", "cluster", c.Cluster.String())
	return nil
}

// New returns the props of an Instance actor, the compute controller of
// one cluster: a thin shell over Core that turns messages into Core steps
// and Core effects into messages. Each replica is a ReplicaState child
// (package replica). A restart of the actor starts from an empty core:
// pending peeks are answered with ErrStopped first, and the environment
// must recreate what it needs. It fails when the config is incomplete or
// its metrics cannot be registered.
func New(cfg Config) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := NewMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("instance: metrics: %w", err)
	}
	un, err := surface.NewUnhandled("instance", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	coreCfg := CoreConfig{Cluster: cfg.Cluster, ClusterName: cfg.ClusterName, EnvironmentEpoch: cfg.EnvironmentEpoch, Restarts: cfg.Restarts, ReadOnly: cfg.ReadOnly}
	if _, err := NewCore(coreCfg); err != nil {
		return nil, err
	}
	return actor.PropsFromProducer(func() actor.Actor {
		core, _ := NewCore(coreCfg)
		return &instanceActor{cfg: cfg, core: core, metrics: m, unhandled: un, children: map[timely.ReplicaId]*actor.PID{}, loggedReasons: map[string]bool{}}
	}), nil
}

type instanceActor struct {
	// constant after start.
	cfg       Config
	metrics   *Metrics
	unhandled *surface.Unhandled

	// guarded by the actor.
	core     *Core
	children map[timely.ReplicaId]*actor.PID
	loop     *clock.Loop
	// loggedReasons: kinds of ignored responses already logged at Warn.
	loggedReasons map[string]bool
}

func (a *instanceActor) Receive(ctx actor.Context) {
	now := a.cfg.Clock.Now()
	switch m := ctx.Message().(type) {
	case *actor.Started:
		self, sys := ctx.Self(), ctx.ActorSystem()
		a.loop = clock.Every(a.cfg.Clock, a.cfg.MaintainInterval, func(time.Time) { sys.Root.Send(self, Maintain{}) })
	case *actor.Stopping, *actor.Restarting:
		if a.loop != nil {
			a.loop.Stop()
			a.loop = nil
		}
		a.core.Stop()
	case Maintain, *Maintain:
		a.core.Maintain(now)
		a.metrics.refresh(a.cfg.Cluster.String(), a.core.Stats())
	case CreateDataflow:
		a.reply(ctx, a.core.CreateDataflow(m.Dataflow, DataflowOptions{ReadPolicy: m.ReadPolicy}))
	case Subscribe:
		a.reply(ctx, a.core.CreateDataflow(m.Dataflow, DataflowOptions{TargetReplica: m.TargetReplica, Client: m.Client}))
	case DropCollections:
		a.reply(ctx, a.core.DropCollections(m.Ids...))
	case SetReadPolicy:
		a.reply(ctx, a.core.SetReadPolicy(m.Policy, m.Ids...))
	case Peek:
		a.handlePeek(ctx, now, m)
	case CancelPeek:
		_ = a.core.CancelPeek(m.Uuid)
	case AddReplica:
		a.reply(ctx, a.core.AddReplica(m.Id, m.Name))
	case RemoveReplica:
		a.reply(ctx, a.core.RemoveReplica(m.Id))
	case AllowWrites:
		a.reply(ctx, a.core.AllowWrites())
	case RegisterStorage:
		a.reply(ctx, a.core.RegisterStorage(m.Collection))
	case UnregisterStorage:
		a.reply(ctx, a.core.UnregisterStorage(m.Id))
	case UpdateStorageFrontiers:
		if err := a.core.UpdateStorageFrontiers(m.Id, m.Since, m.Upper); err != nil {
			a.cfg.Logger.Warn("storage frontiers ignored", "err", err)
		}
	case AcquireReadHold:
		h, err := a.core.AcquireReadHold(m.Id)
		ctx.Respond(ReadHoldReply{Hold: h, Err: messages.ErrorToWire(err)})
	case DowngradeReadHold:
		a.reply(ctx, a.core.DowngradeReadHold(m.Hold, m.Since))
	case ReleaseReadHold:
		a.reply(ctx, a.core.ReleaseReadHold(m.Hold))
	case replica.Response:
		if err := a.core.HandleResponse(now, m.Replica, m.Response); err != nil {
			a.ignored(err)
		}
	case replica.Failed:
		if err := a.core.ReplicaFailed(now, m.Replica, m.Incarnation, m.Err); err != nil {
			a.cfg.Logger.Debug("replica failure ignored", "err", err)
		}
	case GetDump, *GetDump:
		b, err := json.Marshal(a.core.Dump(now))
		if err != nil {
			a.cfg.Logger.Error("dump", "err", err)
		}
		ctx.Respond(DumpReply{JSON: b})
	case *actor.Stopped, *actor.Terminated:
	default:
		a.unhandled.Handle(ctx)
	}
	a.perform(ctx)
}

// ignored counts a response the core dropped or partly ignored, and logs
// the first of each reason at Warn (stale responses, expected after every
// restart, only at Debug), the rest at Debug.
func (a *instanceActor) ignored(err error) {
	reason := "malformed"
	switch {
	case errors.Is(err, ErrStaleResponse):
		reason = "stale_epoch"
	case errors.Is(err, ErrFrontierRegression):
		reason = "frontier_regression"
	case errors.Is(err, ErrUnknownCollection):
		reason = "unknown_collection"
	case errors.Is(err, ErrUnknownReplica):
		reason = "unknown_replica"
	}
	a.metrics.IgnoredResponses.WithLabelValues(a.cfg.Cluster.String(), reason).Inc()
	level := slog.LevelDebug
	if !a.loggedReasons[reason] && reason != "stale_epoch" {
		a.loggedReasons[reason] = true
		level = slog.LevelWarn
	}
	a.cfg.Logger.Log(context.Background(), level, "replica response ignored (further ones of this kind at debug level)", "reason", reason, "err", err)
}

func (a *instanceActor) reply(ctx actor.Context, err error) {
	if ctx.Sender() != nil {
		ctx.Respond(Reply{Err: messages.ErrorToWire(err)})
	}
}

func (a *instanceActor) handlePeek(ctx actor.Context, now time.Time, m Peek) {
	client := m.ReplyTo
	if client == nil {
		client = ctx.Sender()
	}
	req := PeekRequest{Uuid: m.Uuid, Collection: m.Collection, Timestamp: m.Timestamp, Key: m.Key, Mfp: m.Mfp,
		Finishing: m.Finishing, Target: m.Target, Client: client}
	if m.Timeout > 0 {
		req.Deadline = now.Add(m.Timeout)
	}
	if err := a.core.Peek(req); err != nil {
		a.metrics.PeeksTotal.WithLabelValues(a.cfg.Cluster.String(), "refused").Inc()
		a.sendPeekAnswer(ctx, PeekAnswer{Uuid: m.Uuid, Client: client, Err: err})
	}
}

// perform carries out the core's effects in the order Effects documents.
func (a *instanceActor) perform(ctx actor.Context) {
	fx := a.core.Drain()
	if fx.empty() {
		return
	}
	for _, c := range fx.Connects {
		child := a.children[c.Replica]
		if child == nil {
			props, err := replica.NewState(replica.StateConfig{Replica: c.Replica, Launcher: a.cfg.Launcher,
				LaunchTimeout: a.cfg.LaunchTimeout, Logger: a.cfg.Logger, Registerer: a.cfg.Registerer})
			if err != nil {
				a.cfg.Logger.Error("replica state", "replica", c.Replica.String(), "err", err)
				continue
			}
			child = ctx.Spawn(props)
			a.children[c.Replica] = child
		}
		ctx.Send(child, replica.Connect{Incarnation: c.Incarnation, Commands: c.Commands})
	}
	for _, c := range fx.Commands {
		if child := a.children[c.Replica]; child != nil {
			ctx.Send(child, replica.Send{Command: c.Command})
		}
	}
	for _, id := range fx.Removed {
		if child := a.children[id]; child != nil {
			ctx.Stop(child)
			delete(a.children, id)
		}
	}
	for _, e := range fx.StatusErrors {
		a.metrics.StatusErrors.WithLabelValues(a.cfg.Cluster.String(), e.Replica.String(), e.Collection, e.Code).Inc()
	}
	if len(fx.StorageHolds) > 0 {
		if a.cfg.StorageHolds != nil {
			a.cfg.StorageHolds(fx.StorageHolds)
		} else {
			a.cfg.Logger.Debug("storage hold changes", "changes", fmt.Sprint(fx.StorageHolds))
		}
	}
	for _, p := range fx.Peeks {
		a.metrics.PeeksTotal.WithLabelValues(a.cfg.Cluster.String(), p.Result).Inc()
		a.sendPeekAnswer(ctx, p)
	}
	for _, s := range fx.Subscribes {
		pid, _ := s.Client.(*actor.PID)
		if pid == nil {
			continue
		}
		resp := &messages.ComputeSubscribeResponse{Id: messages.FromGlobalId(s.Id)}
		switch {
		case s.DroppedAt != nil:
			resp.Response = &messages.ComputeSubscribeResponse_DroppedAt{DroppedAt: messages.FromFrontier(*s.DroppedAt)}
		default:
			b := &messages.ComputeSubscribeBatch{Lower: messages.FromFrontier(s.Lower), Upper: messages.FromFrontier(s.Upper)}
			if s.Err != nil {
				b.Result = &messages.ComputeSubscribeBatch_Error{Error: messages.ErrorToWire(s.Err)}
			} else {
				b.Result = &messages.ComputeSubscribeBatch_Updates{Updates: &messages.ComputeUpdates{Updates: s.Updates}}
			}
			resp.Response = &messages.ComputeSubscribeResponse_Batch{Batch: b}
		}
		ctx.Send(pid, resp)
	}
	for _, l := range fx.Logs {
		a.cfg.Logger.Log(context.Background(), l.Level, l.Msg)
	}
}

func (a *instanceActor) sendPeekAnswer(ctx actor.Context, p PeekAnswer) {
	pid, _ := p.Client.(*actor.PID)
	if pid == nil {
		return
	}
	resp := &messages.ComputePeekResponse{Uuid: messages.FromUuid(p.Uuid)}
	switch {
	case p.Err != nil && errors.Is(p.Err, ErrPeekCanceled):
		resp.Result = &messages.ComputePeekResponse_Canceled{Canceled: &messages.ComputePeekCanceled{}}
	case p.Err != nil:
		resp.Result = &messages.ComputePeekResponse_Error{Error: messages.ErrorToWire(p.Err)}
	default:
		resp.Result = &messages.ComputePeekResponse_Rows{Rows: &messages.ComputePeekRows{Rows: p.Rows}}
	}
	ctx.Send(pid, resp)
}
