package environment

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// New returns the props of an environment actor. It fails when the config
// lacks the catalog, storage or tracker, or its metrics cannot be
// registered. Spawn it as Name so that clients find it.
func New(cfg Config) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("environment: metrics: %w", err)
	}
	unhandled, err := surface.NewUnhandled("environment", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	// Sessions survive a restart of the actor by its supervisor: the core
	// lives here, outside any one incarnation.
	sh := &shared{readOnly: cfg.ReadOnly}
	// A failed instance (a child) is stopped, not restarted with an empty
	// core: the environment sees it terminate and starts a new one with
	// everything the catalog puts on its cluster.
	stopChildren := actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })
	return actor.PropsFromProducer(func() actor.Actor {
		return &envActor{cfg: cfg, metrics: m, unhandled: unhandled, shared: sh}
	}, actor.WithSupervisor(stopChildren)), nil
}

// queued is a request waiting for bootstrap or for the running DDL
// statement.
type queued struct {
	msg    proto.Message
	sender *actor.PID
}

// shared is what one environment keeps across restarts.
type shared struct {
	core *Core
	// incarnation counts the actor's starts; it makes each incarnation's
	// instance epoch newer than the last one's.
	incarnation uint64
	// readOnly: awaiting promotion (readonly.go).
	readOnly bool
}

// tick is the environment's own timer message.
type tick struct{ now time.Time }

type envActor struct {
	// Constant after New.
	cfg       Config
	metrics   *Metrics
	unhandled *surface.Unhandled
	shared    *shared

	// Guarded by the actor.
	core  *Core
	loop  *clock.Loop
	ready bool
	// bootstrapping is true while a bootstrap attempt is in flight.
	bootstrapping bool
	waiting       []queued
	ddlBusy       bool
	ddlQueue      []queued

	// Compute, guarded by the actor; empty without Config.Launcher.
	// epoch stamps the instances: the catalog's fence epoch, then the
	// incarnation.
	epoch     uint64
	instances map[timely.ClusterId]*actor.PID
	launchers map[timely.ClusterId]*clusterLauncher // each running instance's (compute.go)
	// installed are the indexes and materialized views whose dataflow
	// their instance accepted.
	installed map[timely.GlobalId]bool
	// installing are the dataflows installed after their cluster's others,
	// with the peeks waiting for them (install_wait.go).
	installing map[timely.GlobalId][]func(error)
	// installErrs are the errors of the last failed installs.
	installErrs map[timely.GlobalId]error
	// importHolds bridge new readers of local materialized views in
	// storage (import_hold.go).
	importHolds map[timely.GlobalId]*importHold
	// bridgeWaiters continue the creations waiting for a bridge hold.
	bridgeWaiters map[string]bridgeWaiter
	// holds are the storage read holds applied for each instance.
	holds map[timely.ClusterId]map[string]bool
	// instanceGens number each cluster's running instance among the
	// incarnation's instances of it (holds.go); nextGen is the last given.
	instanceGens map[timely.ClusterId]uint64
	nextGen      uint64
	// unregisters are the unregistrations instances refused, to retry
	// (unregister.go).
	unregisters map[timely.ClusterId]map[timely.GlobalId]*pendingUnregister
	// sweepDue: release the holds an earlier incarnation or a replaced
	// instance left once the instances hold what they need, or at
	// sweepBy (holds.go); retired are the replaced instances' holds.
	sweepDue bool
	sweepBy  time.Time
	retired  []string
	// sweepChecking: the instances' dumps for the sweep are on their way.
	sweepChecking bool
	frontiers     map[timely.GlobalId]tableFrontiers
	polling       bool
	// stopping: the actor is stopping or restarting.
	stopping bool
	// transientSeq numbers the transient dataflows of peeks.
	transientSeq uint64
	// holdWaiters continue the peeks waiting for a storage read hold.
	holdWaiters map[string]func(error)
	// subscriptions by id, and by their sink's id.
	subscriptions    map[uint64]*subscription
	bySink           map[timely.GlobalId]*subscription
	nextSubscription uint64
}

func (a *envActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.handleStarted(ctx)
	case *actor.Stopping, *actor.Restarting:
		// Its children (the instances) stop with it: nothing replaces them.
		a.stopping = true
		// Storage keeps a hold until its sender terminates, and this PID
		// survives a restart (holds.go).
		a.releaseHolds(ctx)
		if _, ok := m.(*actor.Stopping); ok && a.core != nil {
			// Nothing will answer the pending peeks: say so, so that
			// clients retry (a failover client on another node) now.
			for _, p := range a.core.AllPeeks() {
				a.answerPeek(ctx, p, nil, errorf(messages.ErrUnavailable, "peek %q: the environment is stopping; retry", p.name))
			}
		}
		if a.loop != nil {
			a.loop.Stop()
			a.loop = nil
		}
	case *actor.Terminated:
		a.handleTerminated(ctx, m)
	case *tick:
		a.handleTick(ctx, m.now)
	case *peekCanceled:
		a.handlePeekCanceled(ctx, m)
	case *executionEnded:
		a.handleExecutionEnded(ctx, m)
	case *storageHolds:
		a.handleStorageHolds(ctx, m)
	case *messages.StorageReadHoldResponse:
		a.handleReadHoldResponse(ctx, m)
	case *messages.StorageChangeReadHoldsResponse:
		a.handleChangeHoldsResponse(ctx, m)
	case *messages.ComputePeekResponse:
		a.handleComputePeekResponse(ctx, m)
	case *messages.ComputeSubscribeResponse:
		a.handleComputeSubscribe(ctx, m)
	case *messages.ClusterGetNodes:
		a.handleGetNodes(ctx, m, ctx.Sender()) // nodes.go
	case *Promote:
		a.handlePromote(ctx)
	case *PromotionStatus:
		a.handlePromotionStatus(ctx)
	case proto.Message:
		if !isClientRequest(m) {
			a.unhandled.Handle(ctx)
			return
		}
		a.handleRequest(ctx, m, ctx.Sender())
	default:
		a.unhandled.Handle(ctx)
	}
}

func (a *envActor) handleStarted(ctx actor.Context) {
	a.shared.incarnation++
	a.instances = map[timely.ClusterId]*actor.PID{}
	a.installed = map[timely.GlobalId]bool{}
	a.installing = map[timely.GlobalId][]func(error){}
	a.installErrs = map[timely.GlobalId]error{}
	a.importHolds = map[timely.GlobalId]*importHold{}
	a.bridgeWaiters = map[string]bridgeWaiter{}
	a.holds = map[timely.ClusterId]map[string]bool{}
	a.instanceGens = map[timely.ClusterId]uint64{}
	a.unregisters = map[timely.ClusterId]map[timely.GlobalId]*pendingUnregister{}
	a.frontiers = map[timely.GlobalId]tableFrontiers{}
	a.holdWaiters = map[string]func(error){}
	a.subscriptions = map[uint64]*subscription{}
	a.bySink = map[timely.GlobalId]*subscription{}
	if a.shared.core == nil {
		a.shared.core = NewCore(uint64(a.cfg.Clock.Now().UnixNano()))
	} else {
		// A restart: the sessions stay (the client actors are still
		// watched), but the storage reads of pending peeks were lost with
		// the previous incarnation.
		a.core = a.shared.core
		for _, p := range a.core.AllPeeks() {
			a.answerPeek(ctx, p, nil, errorf(messages.ErrUnavailable, "peek %q: the environment restarted; retry", p.name))
		}
	}
	a.core = a.shared.core
	if a.cfg.Effects != nil {
		a.cfg.Effects.attach(ctx.ActorSystem().Root, ctx.Self())
	}
	self, root := ctx.Self(), ctx.ActorSystem().Root
	a.loop = clock.Every(a.cfg.Clock, a.cfg.TickInterval, func(now time.Time) { root.Send(self, &tick{now: now}) })
	a.bootstrap(ctx)
}

func (a *envActor) handleTick(ctx actor.Context, now time.Time) {
	if !a.ready && !a.bootstrapping {
		a.bootstrap(ctx)
	}
	for _, p := range a.core.Expired(now) {
		a.timeoutPeek(ctx, p)
	}
	if a.ready && a.computeEnabled() {
		a.pollFrontiers(ctx)
		a.checkImportHolds(ctx, now)
		a.sweepWhenInstalled(ctx, now)
		a.retryUnregisters(ctx)
	}
	a.metrics.PendingPeeks.Set(float64(a.core.Pending()))
}

// handleRequest checks a client request's size and routes it: connects at
// once, everything else after bootstrap, DDL one statement at a time.
func (a *envActor) handleRequest(ctx actor.Context, m proto.Message, sender *actor.PID) {
	if n := proto.Size(m); n > a.cfg.MaxRequestBytes {
		a.fail(ctx, m, sender, errorf(ErrTooLarge, "%s of %d bytes exceeds the limit of %d bytes; split it", kindOf(m), n, a.cfg.MaxRequestBytes))
		return
	}
	if c, ok := m.(*messages.ClientConnect); ok {
		if !a.refuseReadOnly(ctx, m, sender) {
			a.handleConnect(ctx, c, sender)
		}
		return
	}
	if a.ready && a.refuseReadOnly(ctx, m, sender) {
		return
	}
	if !a.ready {
		a.enqueue(ctx, &a.waiting, m, sender, "the environment is starting")
		return
	}
	if isDDL(m) {
		if a.ddlBusy {
			a.enqueue(ctx, &a.ddlQueue, m, sender, "too many DDL statements are waiting")
			return
		}
		a.ddlBusy = true
	}
	a.dispatch(ctx, m, sender)
}

func (a *envActor) enqueue(ctx actor.Context, q *[]queued, m proto.Message, sender *actor.PID, why string) {
	if len(a.waiting)+len(a.ddlQueue) >= a.cfg.MaxWaiting {
		a.fail(ctx, m, sender, errorf(ErrStarting, "%s: %s; retry", kindOf(m), why))
		return
	}
	*q = append(*q, queued{msg: m, sender: sender})
}

// ddlDone ends the running DDL statement and starts the next one; while
// the environment resyncs, the queued statements wait for it instead.
func (a *envActor) ddlDone(ctx actor.Context) {
	a.ddlBusy = false
	if !a.ready {
		a.waiting = append(a.waiting, a.ddlQueue...)
		a.ddlQueue = nil
		return
	}
	for len(a.ddlQueue) > 0 && !a.ddlBusy {
		next := a.ddlQueue[0]
		a.ddlQueue = a.ddlQueue[1:]
		a.ddlBusy = true
		a.dispatch(ctx, next.msg, next.sender)
	}
}

// becomeReady replays the requests that waited for bootstrap.
func (a *envActor) becomeReady(ctx actor.Context) {
	a.ready = true
	a.cfg.Logger.Info("environment ready", "objects", len(a.core.objects))
	waiting := a.waiting
	a.waiting = nil
	for _, q := range waiting {
		if a.refuseReadOnly(ctx, q.msg, q.sender) {
			continue
		}
		a.handleRequest(ctx, q.msg, q.sender)
	}
}

func (a *envActor) dispatch(ctx actor.Context, m proto.Message, sender *actor.PID) {
	switch m := m.(type) {
	case *messages.ClientDisconnect:
		a.handleDisconnect(ctx, m, sender)
	case *messages.ClientSetStatementTimeout:
		a.handleSetStatementTimeout(ctx, m, sender)
	case *messages.ClientCancel:
		a.handleCancel(ctx, m, sender)
	case *messages.ClientCreateTable:
		a.handleCreateTable(ctx, m, sender)
	case *messages.ClientDrop:
		a.handleDrop(ctx, m, sender)
	case *messages.ClientListObjects:
		a.handleListObjects(ctx, m, sender)
	case *messages.ClientWrite:
		if hasUpdates(m) {
			a.handleUpdate(ctx, m, sender)
			return
		}
		a.handleWrite(ctx, m, sender)
	case *messages.ClientPeek:
		a.handlePeek(ctx, m, sender)
	case *messages.ClientDump:
		a.handleDump(ctx, m, sender)
	case *messages.ClientCreateCluster, *messages.ClientCreateReplica, *messages.ClientCreateView,
		*messages.ClientCreateIndex, *messages.ClientCreateMaterializedView:
		if !a.computeEnabled() {
			a.handleNeedsCompute(ctx, m, sender)
			a.ddlDone(ctx)
			return
		}
		a.handleCreateCompute(ctx, m, sender)
	case *messages.ClientSubscribe:
		a.handleSubscribe(ctx, m, sender)
	case *messages.ClientSubscribeAck:
		a.handleSubscribeAck(ctx, m)
	case *messages.ClientUnsubscribe:
		a.handleUnsubscribe(ctx, m, sender)
	default:
		a.fail(ctx, m, sender, errorf(ErrInternal, "no handler for %s", kindOf(m)))
	}
}

// reply answers a request and counts it.
func (a *envActor) reply(ctx actor.Context, to *actor.PID, kind string, resp proto.Message, err error) {
	result := "ok"
	if err != nil {
		result = codeLabel(messages.CodeOf(err))
	}
	a.metrics.Statements.WithLabelValues(kind, result).Inc()
	if to != nil {
		ctx.Send(to, resp)
	}
}

// fail answers m with err in m's response type.
func (a *envActor) fail(ctx actor.Context, m proto.Message, sender *actor.PID, err error) {
	a.reply(ctx, sender, kindOf(m), errorResponse(m, err), err)
}
