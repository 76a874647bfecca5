package node

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/cluster"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// The runtime host is the actor behind the runtime kind a compute node
// registers in cluster mode: the environment node's placement launcher
// remote-spawns one per replica incarnation. A remote spawn carries only a
// kind name, so the host starts empty and is configured by the launcher's
// ClusterRuntimeSetup (the storage actor, the replica and its
// incarnation): it opens the replica's outputs under
// <data-dir>/compute/<replica>, spawns the replica runtime as its child and
// answers. From then on it forwards the compute protocol to the runtime,
// sender kept, so the runtime answers the controller directly.
//
// A host ends itself, with its runtime, when
//
//   - its runtime stops (it failed: the controller watching the host sees
//     Terminated and launches a new incarnation);
//   - its controller (the ReplicaState that sent the compute commands)
//     terminates, or the controller's node is lost: the host watches it,
//     and protoactor reports a lost endpoint as Terminated;
//   - ClusterRuntimeRetire names its incarnation (the launcher sends it
//     when a newer incarnation of the replica is launched: a controller
//     cannot Stop an actor on another node, the remote guard drops system
//     messages);
//   - it is not set up and sent a command within hostIdleTimeout: a host
//     spawned by a launch that was abandoned, or by someone else, does not
//     linger.
//
// A setup from another process is accepted only from, and only naming
// storage on, an environment member that this node's membership view holds
// up: the sender's PID address is what is checked (the peer claims it;
// mTLS is what authenticates peers off loopback). Remote senders may send it ClusterRuntimeSetup, ClusterRuntimeRetire
// and ComputeCommand only.

// hostIdleTimeout bounds how long a runtime host waits for its setup and
// its controller's first command.
const hostIdleTimeout = 30 * time.Second

// runtimeChildName is the runtime's name under its host.
const runtimeChildName = "runtime"

// runtimeHostTypes are what other nodes may send a runtime host.
var runtimeHostTypes = []proto.Message{
	&messages.ClusterRuntimeSetup{}, &messages.ClusterRuntimeRetire{}, &messages.ComputeCommand{},
}

// runtimeRemoteTypes are what other nodes may send the runtime under a
// host: the compute protocol (forwarded by the host, header kept) and what
// the remote storage actor answers and streams.
var runtimeRemoteTypes = []proto.Message{
	&messages.ComputeCommand{},
	&messages.StorageSubscribeResponse{}, &messages.StorageCdcBatch{}, &messages.StorageCdcProgress{},
	&messages.StorageReadHoldResponse{}, &messages.StorageUnsubscribeResponse{},
	&messages.StorageCdcTableDropped{}, &messages.StorageCdcEnded{},
}

// runtimeHostConfig is what every host of a node shares.
type runtimeHostConfig struct {
	outputs    *outputStores
	membership func() *actor.PID    // this node's membership actor (set once cluster.Start returned)
	hosts      *hostSet             // the node's running hosts, for Stop
	running    *prometheus.GaugeVec // hosts running a runtime, by cluster; nil in tests that do not look
	clock      clock.Clock
	registerer prometheus.Registerer
	logger     *slog.Logger
	idle       time.Duration
	unhandled  *surface.Unhandled
	allowRun   actor.ReceiverMiddleware
}

// newRuntimeHostProps returns the props registered as the runtime kind.
func newRuntimeHostProps(cfg runtimeHostConfig) (*actor.Props, error) {
	if cfg.idle <= 0 {
		cfg.idle = hostIdleTimeout
	}
	cfg.logger = cfg.logger.With("actor", "runtime-host")
	var err error
	if cfg.unhandled, err = surface.NewUnhandled("runtime-host", cfg.logger, cfg.registerer); err != nil {
		return nil, err
	}
	allow, err := surface.AllowRemote(surface.AllowConfig{Actor: "runtime-host", Types: runtimeHostTypes, Logger: cfg.logger, Registerer: cfg.registerer})
	if err != nil {
		return nil, err
	}
	if cfg.allowRun, err = surface.AllowRemote(surface.AllowConfig{Actor: "replica-runtime", Types: runtimeRemoteTypes, Logger: cfg.logger, Registerer: cfg.registerer}); err != nil {
		return nil, err
	}
	return actor.PropsFromProducer(func() actor.Actor { return &runtimeHost{cfg: cfg} },
		actor.WithSupervisor(stopFailed), actor.WithReceiverMiddleware(allow)), nil
}

// hostPhase is where a runtime host is:
//
//	idle ──setup──► checking ──member ok──► opening ──outputs open──► running
//	  │               │                        │
//	  └──expired──► (stop)   └──refused──► idle └──failed──► idle
//
// A host in running stops on its runtime's or controller's Terminated, on a
// matching retire, and (before any command) when idle expires.
type hostPhase uint8

const (
	hostIdle hostPhase = iota
	hostChecking
	hostOpening
	hostRunning
)

// hostExpired: the idle timeout passed.
type hostExpired struct{}

// outputsOpened: the goroutine opening the replica's outputs finished.
type outputsOpened struct {
	shard persistence.Shard
	err   error
}

type runtimeHost struct {
	cfg runtimeHostConfig

	// guarded by the actor
	phase      hostPhase
	setup      *messages.ClusterRuntimeSetup
	storage    *actor.PID
	replica    timely.ReplicaId
	waiters    []*actor.PID // setup senders to answer
	runtime    *actor.PID
	controller *actor.PID
	expire     *clock.Loop
	logger     *slog.Logger

	// the goroutine opening the outputs; canceled and waited for on stop
	cancelOpen context.CancelFunc
	opening    sync.WaitGroup
}

func (h *runtimeHost) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		h.logger = h.cfg.logger.With("host", ctx.Self().Id)
		h.cfg.hosts.add(ctx.Self())
		self, root := ctx.Self(), ctx.ActorSystem().Root
		h.expire = clock.AfterFunc(h.cfg.clock, h.cfg.idle, func(time.Time) { root.Send(self, hostExpired{}) })
	case *actor.Stopping, *actor.Restarting:
		h.release()
	case *actor.Stopped:
		h.release()
		h.cfg.hosts.remove(ctx.Self())
		if h.phase == hostRunning && h.cfg.running != nil {
			h.cfg.running.WithLabelValues(h.setupCluster()).Dec()
		}
		h.answer(ctx, fmt.Errorf("%w: the runtime host stopped", ErrBadSetup))
	case *messages.ClusterRuntimeSetup:
		h.handleSetup(ctx, m)
	case cluster.Nodes:
		h.handleMembers(ctx, m)
	case outputsOpened:
		h.handleOpened(ctx, m)
	case *messages.ComputeCommand:
		h.handleCommand(ctx, m)
	case *messages.ClusterRuntimeRetire:
		h.handleRetire(ctx, m)
	case *actor.Terminated:
		h.handleTerminated(ctx, m)
	case hostExpired:
		if h.controller == nil {
			h.logger.Warn("runtime host not set up and connected in time; stopping", "waited", h.cfg.idle, "phase", h.phase)
			ctx.Stop(ctx.Self())
		}
	default:
		h.cfg.unhandled.Handle(ctx)
	}
}

// release stops the idle timer and the opening goroutine.
func (h *runtimeHost) release() {
	if h.expire != nil {
		h.expire.Stop()
	}
	if h.cancelOpen != nil {
		h.cancelOpen()
	}
	h.opening.Wait()
}

func (h *runtimeHost) handleSetup(ctx actor.Context, m *messages.ClusterRuntimeSetup) {
	if h.setup != nil {
		if !proto.Equal(h.setup, m) {
			h.respond(ctx, ctx.Sender(), fmt.Errorf("%w: the host runs replica %s incarnation %d", ErrBadSetup, h.replica, h.setup.GetIncarnation()))
			return
		}
		if h.phase == hostRunning {
			h.respond(ctx, ctx.Sender(), nil)
			return
		}
		h.waiters = append(h.waiters, ctx.Sender())
		return
	}
	rid, storage, err := decodeSetup(m)
	if err != nil {
		h.respond(ctx, ctx.Sender(), err)
		return
	}
	h.setup, h.replica, h.storage = proto.Clone(m).(*messages.ClusterRuntimeSetup), rid, storage
	h.waiters = append(h.waiters, ctx.Sender())
	h.logger = h.logger.With("replica", rid.String(), "incarnation", m.GetIncarnation())
	if _, remote := surface.FromRemote(ctx); !remote {
		h.open(ctx)
		return
	}
	// From another process: check the sender and the storage against
	// this node's membership view first.
	membership := h.cfg.membership()
	if membership == nil {
		h.refuse(ctx, fmt.Errorf("%w: this node has no membership view yet", ErrSetupNotMember))
		return
	}
	h.phase = hostChecking
	ctx.Request(membership, cluster.GetMembers{})
}

// decodeSetup checks a setup's fields.
func decodeSetup(m *messages.ClusterRuntimeSetup) (timely.ReplicaId, *actor.PID, error) {
	rid, err := m.GetReplica().ToTimely()
	if err != nil || m.GetReplica() == nil {
		return timely.ReplicaId{}, nil, fmt.Errorf("%w: replica: %v", ErrBadSetup, err)
	}
	if _, err := m.GetCluster().ToTimely(); err != nil || m.GetCluster() == nil {
		return timely.ReplicaId{}, nil, fmt.Errorf("%w: cluster: %v", ErrBadSetup, err)
	}
	if m.GetIncarnation() == 0 {
		return timely.ReplicaId{}, nil, fmt.Errorf("%w: incarnation 0", ErrBadSetup)
	}
	if m.GetStorageAddress() == "" || m.GetStorageId() == "" {
		return timely.ReplicaId{}, nil, fmt.Errorf("%w: no storage actor", ErrBadSetup)
	}
	return rid, actor.NewPID(m.GetStorageAddress(), m.GetStorageId()), nil
}

// setupAllowed reports whether both addresses belong to environment
// members up in nodes.
func setupAllowed(nodes cluster.Nodes, addrs ...string) error {
	for _, addr := range addrs {
		ok := slices.ContainsFunc(nodes.Members, func(n cluster.Node) bool {
			return n.Address == addr && n.State == "up" && slices.Contains(n.Roles, cluster.RoleEnvironment)
		})
		if !ok {
			return fmt.Errorf("%w: %s is not an environment member up in this node's view", ErrSetupNotMember, addr)
		}
	}
	return nil
}

func (h *runtimeHost) handleMembers(ctx actor.Context, nodes cluster.Nodes) {
	if h.phase != hostChecking || len(h.waiters) == 0 {
		return
	}
	if err := setupAllowed(nodes, h.waiters[0].GetAddress(), h.storage.GetAddress()); err != nil {
		h.refuse(ctx, err)
		return
	}
	h.open(ctx)
}

// refuse answers every waiting setup with err and forgets the setup; the
// host stays idle (and expires).
func (h *runtimeHost) refuse(ctx actor.Context, err error) {
	h.logger.Warn("runtime setup refused", "err", err)
	h.answer(ctx, err)
	h.setup, h.storage, h.phase = nil, nil, hostIdle
}

// open opens the replica's outputs on a goroutine the host owns.
func (h *runtimeHost) open(ctx actor.Context) {
	h.phase = hostOpening
	octx, cancel := context.WithTimeout(context.Background(), h.cfg.idle)
	h.cancelOpen = cancel
	self, root, rid := ctx.Self(), ctx.ActorSystem().Root, h.replica
	h.opening.Add(1)
	go func() {
		defer h.opening.Done()
		defer cancel()
		shard, err := h.cfg.outputs.shard(octx, rid)
		root.Send(self, outputsOpened{shard: shard, err: err})
	}()
}

func (h *runtimeHost) handleOpened(ctx actor.Context, m outputsOpened) {
	if h.phase != hostOpening {
		return
	}
	h.cancelOpen = nil
	if m.err != nil {
		h.refuse(ctx, fmt.Errorf("%w: %w", ErrRuntimeOutputs, m.err))
		return
	}
	name := fmt.Sprintf("%s-%s-%d", h.setupCluster(), h.replica, h.setup.GetIncarnation())
	props, err := runtime.New(runtime.Config{
		Storage: h.storage,
		Outputs: m.shard,
		// One subscription per incarnation, as for a local runtime.
		SubscriptionId: "replica-" + name,
		Clock:          h.cfg.clock,
		Registerer:     h.cfg.registerer,
		Logger:         h.logger,
	})
	if err != nil {
		h.refuse(ctx, fmt.Errorf("%w: %v", ErrBadSetup, err))
		return
	}
	h.runtime, err = ctx.SpawnNamed(props.Configure(actor.WithReceiverMiddleware(h.cfg.allowRun)), runtimeChildName)
	if err != nil {
		h.refuse(ctx, fmt.Errorf("%w: spawn the runtime: %v", ErrBadSetup, err))
		return
	}
	h.phase = hostRunning
	if h.cfg.running != nil {
		h.cfg.running.WithLabelValues(h.setupCluster()).Inc()
	}
	h.logger.Info("replica runtime started for a remote controller", "runtime", h.runtime.Id, "storage", h.storage.String())
	h.answer(ctx, nil)
}

func (h *runtimeHost) handleCommand(ctx actor.Context, m *messages.ComputeCommand) {
	if h.phase != hostRunning {
		h.logger.Warn("compute command before the host was set up; dropped")
		return
	}
	if s := ctx.Sender(); s != nil && !s.Equal(h.controller) {
		// A new controller (the first, or a newer epoch's): the host
		// lives as long as the latest one.
		if h.controller != nil {
			ctx.Unwatch(h.controller)
		}
		h.controller = s
		ctx.Watch(s)
		h.logger.Info("controller connected", "controller", s.String())
	}
	ctx.Forward(h.runtime)
}

func (h *runtimeHost) handleRetire(ctx actor.Context, m *messages.ClusterRuntimeRetire) {
	if h.setup == nil || !proto.Equal(m.GetReplica(), h.setup.GetReplica()) ||
		!proto.Equal(m.GetCluster(), h.setup.GetCluster()) || m.GetIncarnation() != h.setup.GetIncarnation() {
		h.logger.Warn("retire for another runtime ignored", "replica", m.GetReplica().String(), "incarnation", m.GetIncarnation())
		return
	}
	h.logger.Info("incarnation retired; stopping")
	ctx.Stop(ctx.Self())
}

func (h *runtimeHost) handleTerminated(ctx actor.Context, m *actor.Terminated) {
	switch who := m.GetWho(); {
	case who.Equal(h.runtime):
		h.logger.Warn("replica runtime stopped; stopping its host", "why", m.GetWhy())
		h.runtime = nil
		ctx.Stop(ctx.Self())
	case who.Equal(h.controller):
		h.logger.Info("controller gone; stopping the runtime", "controller", who.String(), "why", m.GetWhy())
		ctx.Stop(ctx.Self())
	}
}

// setupCluster is the cluster of the setup, as its id.
func (h *runtimeHost) setupCluster() string {
	cl, _ := h.setup.GetCluster().ToTimely()
	return cl.String()
}

// answer answers every waiting setup sender.
func (h *runtimeHost) answer(ctx actor.Context, err error) {
	for _, w := range h.waiters {
		h.respond(ctx, w, err)
	}
	h.waiters = nil
}

func (h *runtimeHost) respond(ctx actor.Context, to *actor.PID, err error) {
	if to == nil {
		return
	}
	ctx.Send(to, &messages.ClusterRuntimeSetupResponse{Error: messages.ErrorToWire(err)})
}
