package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/coordinator"
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// New returns the props of a replica runtime. It fails when the config is
// incomplete or the metrics cannot be registered. Spawn one actor from
// one Props value: the read hold and the controller connection carry over
// the actor's restarts through a value New creates.
func New(cfg Config) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	rm, err := newRuntimeMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("runtime: metrics: %w", err)
	}
	unhandled, err := surface.NewUnhandled("replica-runtime", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	carried := &carried{}
	return actor.PropsFromProducer(func() actor.Actor {
		carried.incarnation++
		return &runtimeActor{cfg: cfg, metrics: rm, unhandled: unhandled, carried: carried}
	}, actor.WithSupervisor(escalate)), nil
}

// carried is what survives a restart of the runtime actor (its PID
// survives too): the controller to tell about the restart, and the read
// hold storage keeps for it.
type carried struct {
	incarnation int64 // 1 for the first actor; more after restarts
	controller  *actor.PID
	epoch       Epoch
	replica     *messages.ReplicaId
	// hold is the runtime's named read hold on storage; acquired once,
	// kept across restarts, only ever moved forward.
	holdAcquired bool
	holdAt       timely.Timestamp
	// imports: the named read hold of each imported storage collection
	// and where it is (collection_feed.go).
	imports map[timely.GlobalId]timely.Timestamp
	// stopping: the actor was asked to stop; a restart that overtakes the
	// stop (a failure while stopping) must not bring it back.
	stopping bool
}

// escalate is the runtime's strategy for its children: a coordinator or
// pool that panics (a broken invariant; workers are supervised by the
// pool) fails the whole runtime, whose own supervisor restarts it empty.
// Its controller then reconnects and replays its commands; committed
// checkpoints make the replay cheap.
var escalate = actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.EscalateDirective })

// runtimeActor is one replica's runtime: it owns the pool and the
// coordinator (its children), subscribes to storage CDC and feeds it to
// the coordinator as Consumes, and speaks the compute protocol.
type runtimeActor struct {
	// constant after construction
	cfg       Config
	metrics   *runtimeMetrics
	unhandled *surface.Unhandled
	carried   *carried

	// guarded by the actor
	conn       *Connection
	controller *actor.PID // sender of the current epoch's Hello
	// early holds runtime-level status errors raised before any
	// controller connected (a storage refusal can beat the first Hello);
	// the first connection gets them. At most maxEarlyStatus, the latest.
	early  []error
	config *messages.ComputeInstanceConfig
	params map[string]string
	// staleLogged: kinds of stale commands already logged
	staleLogged map[string]bool

	// storage and children; pool and coord are nil until storage answered
	// the startup frontiers (ready)
	store    *coordinator.ShardStore
	pool     *actor.PID
	coord    *actor.PID
	feed     *feed
	ticks    *clock.Loop
	calls    map[uint64]*storageCall
	nextCall uint64
	ready    bool
	// subscribeAttempts counts the refusals of the runtime's subscription
	// since it was last accepted; resubscribeTimer asks again
	// (subscription.go).
	subscribeAttempts int
	resubscribeTimer  *clock.Loop

	// flows by export
	flows map[timely.GlobalId]*flowState
	// buildQueue decides (build_queue.go); builds holds each queued
	// build's flows by its key.
	buildQueue   BuildQueue
	builds       map[uint64]*build
	nextBuildKey uint64

	// book holds the pending peeks (peek_book.go).
	book *PeekBook

	// compaction: the consumed upper bounds the read hold
	consumed timely.Timestamp
	// imports: the storage collections flows read (collection_feed.go)
	imports map[timely.GlobalId]*collectionImport
}

type tickAt struct{ coordinator.Tick }

// Receive handles one message.
func (a *runtimeActor) Receive(ctx actor.Context) {
	if a.conn == nil {
		// Not started: a restart that overtook a stop (below) is ending.
		switch ctx.Message().(type) {
		case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
		default:
			return
		}
	}
	if a.handleImportMessage(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if a.carried.stopping {
			// A failure while stopping (of this actor or of a child that
			// escalated) made the supervisor restart it, which protoactor
			// lets override the stop: finish the stop instead of coming back
			// empty.
			a.cfg.Logger.Warn("runtime restarted while stopping (a failure during its stop); stopping again")
			ctx.Stop(ctx.Self())
			return
		}
		a.start(ctx)
	case *actor.Stopping:
		a.carried.stopping = true
		a.stopLoops()
	case *actor.Stopped:
		// While its children stop, a stopping actor still handles user
		// messages, and one of them may have started a storage call (and
		// its deadline timer) after Stopping: stop those too.
		a.stopLoops()
	case *actor.Restarting:
		a.stopLoops()
		// The PID survives the restart, so storage would keep the
		// subscription: end it before the next incarnation subscribes.
		// The named read hold stays: it protects the checkpoints the
		// next incarnation backfills from.
		ctx.Request(a.cfg.Storage, &messages.StorageUnsubscribe{SubscriptionId: a.cfg.SubscriptionId})
	case *messages.ComputeCommand:
		a.handleCommand(ctx, m)
	case *storageAnswer:
		a.handleStorageAnswer(ctx, m)
	case *storageDeadline:
		a.handleStorageDeadline(ctx, m)
	case *messages.StorageSubscribeResponse:
		a.handleSubscribeResponse(ctx, m)
	case *resubscribe:
		a.handleResubscribe(ctx, m)
	case *messages.StorageCdcBatch:
		if a.feed == nil {
			return // the previous incarnation's subscription, ending
		}
		changes, err := decodeVersion(m.GetBatch())
		if err != nil {
			a.status(ctx, nil, err)
			return
		}
		a.feed.batch(changes)
	case *messages.StorageCdcProgress:
		if a.feed == nil {
			return
		}
		if t, ok := frontierTime(m.GetUpper()); ok {
			a.feed.progress(t)
		}
		a.sendConsume(ctx)
		a.releasePersistPeeks(ctx)
		a.advanceSinks(ctx)
	case *messages.StorageReadHoldResponse:
		a.handleReadHoldResponse(ctx, m)
	case *messages.StorageUnsubscribeResponse:
	case *messages.StorageCdcTableDropped:
		a.cfg.Logger.Info("table dropped under the runtime's subscription", "table", m.GetTable())
	case *messages.StorageCdcEnded:
		a.handleCdcEnded(ctx, m)
	case *coordinator.ConsumeReply:
		failIfOutputsMoved(m.Err)
		busy := errors.Is(m.Err, coordinator.ErrBusy)
		a.feed.replied(busy)
		if m.Err != nil && !busy {
			a.status(ctx, nil, fmt.Errorf("%w: consume: %w", ErrFlow, m.Err))
		}
		if m.Upper > a.consumed {
			a.consumed = m.Upper
			// The inputs of hydrated flows advanced.
			a.reportFrontiers(ctx)
		}
		a.sendConsume(ctx)
		a.frontiersMoved(ctx)
	case *coordinator.Ready:
		a.sendConsume(ctx)
	case *coordinator.FlowEvents:
		a.handleFlowEvents(ctx, m)
	case *coordinator.InstallFlowReply:
		a.handleInstallReply(ctx, m)
	case *coordinator.DropFlowReply:
		a.handleDropReply(ctx, m)
	case *pool.PeekReply:
		a.handlePeekReply(ctx, m)
	case *tickAt:
		if a.coord != nil {
			ctx.Send(a.coord, &m.Tick)
		}
	default:
		a.unhandled.Handle(ctx)
	}
}

// start opens the output store and asks storage for its upper; the
// children are spawned when it answers (startStorage). Commands are
// accepted meanwhile; builds wait.
func (a *runtimeActor) start(ctx actor.Context) {
	a.conn = NewConnection()
	a.params = map[string]string{}
	a.staleLogged = map[string]bool{}
	a.flows = map[timely.GlobalId]*flowState{}
	a.builds = map[uint64]*build{}
	a.book = NewPeekBook()
	a.calls = map[uint64]*storageCall{}
	tables := storageTables{root: ctx.ActorSystem().Root, storage: a.cfg.Storage, timeout: a.cfg.StorageTimeout}
	// The output shard is local persistence, opened once here (a
	// documented exception to request/reply: nothing can be answered
	// before it is open), within the storage deadline.
	octx, cancel := context.WithTimeout(context.Background(), a.cfg.StorageTimeout)
	opts := []coordinator.ShardOption{coordinator.OutputMetrics(a.cfg.Registerer)}
	if a.cfg.OutputCompactionMin > 0 {
		opts = append(opts, coordinator.CompactionMin(a.cfg.OutputCompactionMin))
	}
	store, err := coordinator.OpenShardStore(octx, a.cfg.Outputs, tables, opts...)
	cancel()
	if err != nil {
		panic(fmt.Errorf("replica runtime failed to start: %w", err))
	}
	a.store = store
	if a.carried.incarnation > 1 && a.carried.controller != nil {
		// Tell the controller of the last connection; it reconnects with a
		// newer epoch and replays its commands.
		a.controller = a.carried.controller
		a.respond(ctx, &messages.ComputeResponse{Epoch: epochToWire(a.carried.epoch), Response: &messages.ComputeResponse_Status{Status: &messages.ComputeStatus{
			Error:     messages.ErrorToWire(fmt.Errorf("%w: incarnation %d started empty; reconnect and replay", ErrRestarted, a.carried.incarnation)),
			Restarted: true,
		}}})
		a.controller = nil
	}
	a.askUpper(ctx)
}

func (a *runtimeActor) askUpper(ctx actor.Context) {
	a.call(ctx, "startup frontiers", &messages.StorageFrontiers{}, func(ctx actor.Context, res any, err error) {
		if err == nil {
			err = a.startStorage(ctx, res)
		}
		if err != nil {
			// Storage is slow or failing: keep answering commands and ask
			// again.
			a.cfg.Logger.Warn("runtime cannot start its flows yet", "err", err)
			a.askUpper(ctx)
		}
	})
}

// startStorage spawns the pool and the coordinator at storage's upper,
// subscribes to CDC from there, takes (or keeps) the read hold, and starts
// the builds that waited.
func (a *runtimeActor) startStorage(ctx actor.Context, res any) error {
	fr, ok := res.(*messages.StorageFrontiersResponse)
	if !ok {
		return fmt.Errorf("%w: frontiers: unexpected answer %T", ErrStorage, res)
	}
	if err := storageErr(ErrStorage, "frontiers", fr.GetError()); err != nil {
		return err
	}
	upper, _ := frontierTime(fr.GetUpper())
	poolProps, err := pool.New(pool.Config{Workers: a.cfg.Workers, Reader: a.store, ReadTimeout: a.cfg.StorageTimeout, Registerer: a.cfg.Registerer, Logger: a.cfg.Logger, BeforeApply: a.cfg.BeforeApply})
	if err != nil {
		panic(fmt.Errorf("replica runtime: spawn pool: %w", err))
	}
	if a.pool, err = ctx.SpawnNamed(poolProps, "pool"); err != nil {
		return err
	}
	props, err := coordinator.New(coordinator.Config{
		Pool:          a.pool,
		Store:         a.store,
		Events:        ctx.Self(),
		Upper:         upper,
		BackfillChunk: a.cfg.BackfillChunk,
		StoreTimeout:  a.cfg.StorageTimeout,
		Registerer:    a.cfg.Registerer,
		Logger:        a.cfg.Logger,
	})
	if err != nil {
		panic(fmt.Errorf("replica runtime: coordinator: %w", err))
	}
	// Named, so that tests can reach it as <runtime>/coordinator.
	if a.coord, err = ctx.SpawnNamed(props, "coordinator"); err != nil {
		panic(fmt.Errorf("replica runtime: spawn coordinator: %w", err))
	}
	a.feed = newFeed(upper)
	a.consumed = upper
	// The subscription's own hold follows its progress; the named hold
	// below is what keeps the flows' history.
	a.subscribeNow(ctx)
	if !a.carried.holdAcquired {
		a.carried.holdAcquired, a.carried.holdAt = true, upper
		ctx.Request(a.cfg.Storage, &messages.StorageAcquireReadHold{HoldId: a.holdId(), At: uint64(upper)})
	}
	if a.cfg.TickInterval > 0 {
		root, self := ctx.ActorSystem().Root, ctx.Self()
		a.ticks = clock.Every(a.cfg.Clock, a.cfg.TickInterval, func(now time.Time) { root.Send(self, &tickAt{coordinator.Tick{Now: now}}) })
	}
	a.ready = true
	a.stepBuilds(ctx, BuildReady{})
	return nil
}

func (a *runtimeActor) stopLoops() {
	if a.ticks != nil {
		a.ticks.Stop()
		a.ticks = nil
	}
	if a.resubscribeTimer != nil {
		a.resubscribeTimer.Stop()
		a.resubscribeTimer = nil
	}
	a.stopCalls()
}

func frontierTime(f *messages.Frontier) (timely.Timestamp, bool) {
	if f == nil {
		return 0, false
	}
	tf, err := f.ToTimely()
	if err != nil {
		return 0, false
	}
	return tf.Time()
}

func (a *runtimeActor) sendConsume(ctx actor.Context) {
	if a.feed == nil {
		return
	}
	if c := a.feed.next(); c != nil {
		ctx.Request(a.coord, c)
	}
}

func epochToWire(e Epoch) *messages.ComputeEpoch {
	return &messages.ComputeEpoch{Environment: e.Environment, Incarnation: e.Incarnation}
}

// respond sends a response to the controller of the current epoch;
// dropped when the connection has no controller.
func (a *runtimeActor) respond(ctx actor.Context, r *messages.ComputeResponse) {
	if a.controller == nil {
		return
	}
	if r.Epoch == nil {
		r.Epoch = epochToWire(a.conn.Epoch())
	}
	r.Replica = a.carried.replica
	ctx.Send(a.controller, r)
}

// failIfOutputsMoved fails the runtime when a commit found the output
// shard's upper elsewhere than where the ShardStore keeps it: an earlier
// commit whose outcome was unknown (a timeout) landed after all, or
// another writer appended. The store's view of checkpoints and outputs is
// then stale, and every later commit would fail the same way; the runtime
// restarts, opens the shard again and its flows resume from what is
// durable (the controller reconnects and replays, as after any restart).
func failIfOutputsMoved(err error) {
	var moved *persistence.UpperMismatchError
	if err != nil && errors.As(err, &moved) {
		panic(fmt.Errorf("%w: the output shard moved under the runtime (an earlier commit of unknown outcome landed, or another writer appended); restarting from what is durable: %w", ErrStorage, err))
	}
}

// maxEarlyStatus bounds the status errors kept for the first controller.
const maxEarlyStatus = 8

// status reports a failure: of collection id, or of the runtime (nil).
func (a *runtimeActor) status(ctx actor.Context, id *timely.GlobalId, err error) {
	a.cfg.Logger.Warn("replica runtime error", "collection", id, "err", err)
	if a.controller == nil && id == nil && a.conn.Epoch() == (Epoch{}) {
		if len(a.early) == maxEarlyStatus {
			a.early = a.early[1:]
		}
		a.early = append(a.early, err)
		return
	}
	a.sendStatus(ctx, id, err)
}

// sendStatus sends a status error to the controller.
func (a *runtimeActor) sendStatus(ctx actor.Context, id *timely.GlobalId, err error) {
	st := &messages.ComputeStatus{Error: messages.ErrorToWire(err)}
	if id != nil {
		st.Failed = messages.FromGlobalId(*id)
	}
	a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_Status{Status: st}})
}

func (a *runtimeActor) hydration(ctx actor.Context, id timely.GlobalId, hydrated bool) {
	a.respond(ctx, &messages.ComputeResponse{Response: &messages.ComputeResponse_Status{Status: &messages.ComputeStatus{
		Hydration: []*messages.ComputeHydration{{Id: messages.FromGlobalId(id), Hydrated: hydrated}},
	}}})
}

// handleCdcEnded subscribes again when storage ended the subscription
// (it stopped, or could not resume it): from the feed's upper, below
// which every change has arrived, so nothing is missed or repeated. The
// named read hold keeps that history. An Unsubscribe goes first in case
// storage still knows the id.
func (a *runtimeActor) handleCdcEnded(ctx actor.Context, m *messages.StorageCdcEnded) {
	if a.feed == nil || m.GetSubscriptionId() != a.cfg.SubscriptionId {
		return
	}
	from := a.feed.upper
	a.cfg.Logger.Warn("storage ended the runtime's subscription; subscribing again", "from", from, "err", m.GetError())
	a.feed.restart(from)
	ctx.Request(a.cfg.Storage, &messages.StorageUnsubscribe{SubscriptionId: a.cfg.SubscriptionId})
	a.subscribeNow(ctx)
}
