package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/coordinator"
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// New returns the props of a replica runtime. It fails when the config is
// incomplete or the metrics cannot be registered.
func New(cfg Config) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	incarnations := new(atomic.Int64)
	return actor.PropsFromProducer(func() actor.Actor {
		return &runtimeActor{cfg: cfg, incarnation: incarnations.Add(1)}
	}, actor.WithSupervisor(escalate)), nil
}

// escalate is the runtime's strategy for its children: a coordinator or
// pool that panics (a broken invariant; workers are supervised by the
// pool) fails the whole runtime, whose own supervisor restarts it empty.
// Its controller then replays the flows (ARCHITECTURE.md §7); committed
// checkpoints make the replay cheap.
var escalate = actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.EscalateDirective })

// runtimeActor is one replica's runtime: it owns the pool and the
// coordinator (its children), subscribes to storage CDC and feeds it to
// the coordinator as Consumes, and translates the Rt* protocol.
type runtimeActor struct {
	// constant after construction
	cfg         Config
	incarnation int64 // 1 for the first; more after restarts

	// guarded by the actor; set in Started
	store *coordinator.ShardStore
	pool  *actor.PID
	coord *actor.PID
	feed  *feed
	flows map[timely.GlobalId]pool.FlowSpec // installed, by export
	// installing are flows sent to the coordinator, not yet answered
	installing map[pool.FlowId]pool.FlowSpec
	replies    map[string]*actor.PID // pending install/drop answers by "i"/"d" + export
	peeks      map[uint64]*messages.Uuid
	nextId     uint64
	ticks      *ticker

	// compaction: the subscription's read hold, the consumed upper and the
	// flows' committed checkpoints that bound it
	hold        timely.Timestamp
	consumed    timely.Timestamp
	checkpoints map[timely.GlobalId]timely.Timestamp
}

type tickAt struct{ coordinator.Tick }

// Receive handles one message.
func (a *runtimeActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if err := a.start(ctx); err != nil {
			panic(fmt.Errorf("replica runtime failed to start: %w", err))
		}
	case *actor.Stopping:
		if a.ticks != nil {
			a.ticks.stop()
		}
	case *actor.Restarting:
		if a.ticks != nil {
			a.ticks.stop()
		}
		// The PID survives the restart, so storage would keep the
		// subscription: end it before the next incarnation subscribes.
		ctx.Request(a.cfg.Storage, &messages.StorageUnsubscribe{SubscriptionId: a.cfg.SubscriptionId})
	case *messages.StorageSubscribeResponse:
		if e := m.GetError(); e != nil {
			panic(fmt.Errorf("%w: subscribe: %s", ErrStorage, e.GetMessage()))
		}
	case *messages.StorageCdcBatch:
		changes, err := decodeVersion(m.GetBatch())
		if err != nil {
			a.emitError(ctx, nil, err.Error())
			return
		}
		a.feed.batch(changes)
	case *messages.StorageCdcProgress:
		if t, ok := frontierTime(m.GetUpper()); ok {
			a.feed.progress(t)
		}
		a.sendConsume(ctx)
	case *messages.StorageReadHoldResponse:
		if e := m.GetError(); e != nil {
			a.cfg.Logger.Warn("read hold downgrade refused", "hold", m.GetHoldId(), "err", e.GetMessage())
		}
	case *messages.StorageCdcTableDropped:
		a.cfg.Logger.Info("table dropped under the runtime's subscription", "table", m.GetTable())
	case *coordinator.ConsumeReply:
		busy := errors.Is(m.Err, coordinator.ErrBusy)
		a.feed.replied(busy)
		if m.Err != nil && !busy {
			a.emitError(ctx, nil, m.Err.Error())
		}
		a.consumed = max(a.consumed, m.Upper)
		a.sendConsume(ctx)
		a.downgradeHold(ctx)
	case *coordinator.Ready:
		a.sendConsume(ctx)
	case *coordinator.FlowEvents:
		a.handleFlowEvents(ctx, m)
	case *messages.RtInstallFlow:
		a.handleInstall(ctx, m)
	case *coordinator.InstallFlowReply:
		a.handleInstallReply(ctx, m)
	case *messages.RtDropFlow:
		a.handleDrop(ctx, m)
	case *coordinator.DropFlowReply:
		a.handleDropReply(ctx, m)
	case *messages.RtPeek:
		a.handlePeek(ctx, m)
	case *pool.PeekReply:
		a.handlePeekReply(ctx, m)
	case *tickAt:
		ctx.Send(a.coord, &m.Tick)
	}
}

func (a *runtimeActor) start(ctx actor.Context) error {
	a.flows = map[timely.GlobalId]pool.FlowSpec{}
	a.installing = map[pool.FlowId]pool.FlowSpec{}
	a.replies = map[string]*actor.PID{}
	a.peeks = map[uint64]*messages.Uuid{}
	tables := storageTables{root: ctx.ActorSystem().Root, storage: a.cfg.Storage, timeout: a.cfg.StorageTimeout}
	store, err := coordinator.OpenShardStore(context.Background(), a.cfg.Outputs, tables)
	if err != nil {
		return err
	}
	a.store = store
	res, err := ctx.RequestFuture(a.cfg.Storage, &messages.StorageFrontiers{}, a.cfg.StorageTimeout).Result()
	if err != nil {
		return fmt.Errorf("%w: frontiers: %v", ErrStorage, err)
	}
	fr, ok := res.(*messages.StorageFrontiersResponse)
	if !ok || fr.GetError() != nil {
		return fmt.Errorf("%w: frontiers: %v", ErrStorage, res)
	}
	upper, _ := frontierTime(fr.GetUpper())
	poolProps, err := pool.New(pool.Config{Workers: a.cfg.Workers, Reader: store, ReadTimeout: a.cfg.StorageTimeout, Registerer: a.cfg.Registerer, Logger: a.cfg.Logger, BeforeApply: a.cfg.BeforeApply})
	if err != nil {
		return err
	}
	if a.pool, err = ctx.SpawnNamed(poolProps, "pool"); err != nil {
		return err
	}
	props, err := coordinator.New(coordinator.Config{
		Pool:          a.pool,
		Store:         store,
		Events:        ctx.Self(),
		Upper:         upper,
		BackfillChunk: a.cfg.BackfillChunk,
		StoreTimeout:  a.cfg.StorageTimeout,
		Registerer:    a.cfg.Registerer,
		Logger:        a.cfg.Logger,
	})
	if err != nil {
		return err
	}
	// Named, so that tests can reach it as <runtime>/coordinator.
	if a.coord, err = ctx.SpawnNamed(props, "coordinator"); err != nil {
		return err
	}
	a.feed = newFeed(upper)
	a.hold, a.consumed = upper, upper
	a.checkpoints = map[timely.GlobalId]timely.Timestamp{}
	ctx.Request(a.cfg.Storage, &messages.StorageSubscribe{SubscriptionId: a.cfg.SubscriptionId, From: uint64(upper)})
	if a.cfg.TickInterval > 0 {
		a.ticks = startTicker(a.cfg, ctx.ActorSystem().Root, ctx.Self())
	}
	if a.incarnation > 1 {
		a.emitError(ctx, nil, fmt.Sprintf("%v: incarnation %d started empty; flows must be installed again", ErrRestarted, a.incarnation))
	}
	return nil
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
	if c := a.feed.next(); c != nil {
		ctx.Request(a.coord, c)
	}
}

// downgradeHold moves the subscription's read hold forward to what the
// flows still need: no flow rebuilds below its as_of, and no flow
// backfills below its committed checkpoint, so storage may compact up to
// the least of those (and of the consumed upper). A flow installed later
// with an older as_of must be given one at or after the tables' since.
func (a *runtimeActor) downgradeHold(ctx actor.Context) {
	target := a.consumed
	for export, spec := range a.flows {
		target = min(target, spec.AsOf)
		if cp := a.checkpoints[export]; cp > 0 {
			target = min(target, cp)
		}
	}
	for _, spec := range a.installing {
		target = min(target, spec.AsOf)
	}
	if target <= a.hold {
		return
	}
	a.hold = target
	ctx.Request(a.cfg.Storage, &messages.StorageDowngradeReadHold{HoldId: a.cfg.SubscriptionId, At: uint64(target)})
}

func (a *runtimeActor) handleInstall(ctx actor.Context, m *messages.RtInstallFlow) {
	spec, err := decodeInstall(m)
	if err == nil {
		err = a.checkTables(ctx, spec)
	}
	if err != nil {
		ctx.Respond(&messages.RtInstallFlowResponse{Export: m.GetExport(), Error: err.Error()})
		return
	}
	if _, busy := a.installing[spec.Id]; busy {
		ctx.Respond(&messages.RtInstallFlowResponse{Export: m.GetExport(), Error: fmt.Sprintf("%v: install: %s is being installed", ErrInvalidCommand, spec.Export)})
		return
	}
	if _, ok := a.flows[spec.Export]; ok {
		ctx.Respond(&messages.RtInstallFlowResponse{Export: m.GetExport(), Error: fmt.Sprintf("%v: install: %s is already installed", ErrInvalidCommand, spec.Export)})
		return
	}
	a.installing[spec.Id] = spec
	a.replies["i"+spec.Export.String()] = ctx.Sender()
	ctx.Request(a.coord, &coordinator.InstallFlow{Spec: spec})
}

// checkTables asks storage whether the flow's tables exist and are live.
func (a *runtimeActor) checkTables(ctx actor.Context, spec pool.FlowSpec) error {
	req := &messages.StorageFrontiers{}
	for _, s := range spec.Sources {
		if s.Kind == pool.SourceTable {
			req.Tables = append(req.Tables, messages.FromGlobalId(s.Id))
		}
	}
	if len(req.Tables) == 0 {
		return nil
	}
	res, err := ctx.RequestFuture(a.cfg.Storage, req, a.cfg.StorageTimeout).Result()
	if err != nil {
		return fmt.Errorf("%w: install %s: frontiers: %v", ErrStorage, spec.Export, err)
	}
	fr, ok := res.(*messages.StorageFrontiersResponse)
	if !ok {
		return fmt.Errorf("%w: install %s: unexpected answer %T", ErrStorage, spec.Export, res)
	}
	if e := fr.GetError(); e != nil {
		return fmt.Errorf("%w: install %s: %s", ErrInvalidCommand, spec.Export, e.GetMessage())
	}
	return nil
}

func (a *runtimeActor) handleInstallReply(ctx actor.Context, m *coordinator.InstallFlowReply) {
	spec, ok := a.installing[m.Flow]
	if !ok {
		return
	}
	delete(a.installing, m.Flow)
	export := spec.Export
	if m.Err == nil {
		a.flows[export] = spec
		a.checkpoints[export] = m.Checkpoint
	}
	key := "i" + export.String()
	to := a.replies[key]
	delete(a.replies, key)
	resp := &messages.RtInstallFlowResponse{Export: messages.FromGlobalId(export)}
	if m.Err != nil {
		resp.Error = m.Err.Error()
	}
	if to != nil {
		ctx.Send(to, resp)
	}
}

func (a *runtimeActor) handleDrop(ctx actor.Context, m *messages.RtDropFlow) {
	export, err := m.GetExport().ToTimely()
	if err != nil {
		ctx.Respond(&messages.RtDropFlowResponse{Export: m.GetExport(), Error: fmt.Sprintf("%v: drop: %v", ErrInvalidCommand, err)})
		return
	}
	spec, ok := a.flows[export]
	if !ok {
		ctx.Respond(&messages.RtDropFlowResponse{Export: m.GetExport(), Error: fmt.Sprintf("%v: drop: no flow exports %s", ErrInvalidCommand, export)})
		return
	}
	a.replies["d"+export.String()] = ctx.Sender()
	ctx.Request(a.coord, &coordinator.DropFlow{Flow: spec.Id})
}

func (a *runtimeActor) handleDropReply(ctx actor.Context, m *coordinator.DropFlowReply) {
	var export timely.GlobalId
	for id, s := range a.flows {
		if s.Id == m.Flow {
			export = id
		}
	}
	if m.Err == nil {
		delete(a.flows, export)
		delete(a.checkpoints, export)
		a.downgradeHold(ctx)
	}
	key := "d" + export.String()
	to := a.replies[key]
	delete(a.replies, key)
	resp := &messages.RtDropFlowResponse{Export: messages.FromGlobalId(export)}
	if m.Err != nil {
		resp.Error = m.Err.Error()
	}
	if to != nil {
		ctx.Send(to, resp)
	}
}

func (a *runtimeActor) handlePeek(ctx actor.Context, m *messages.RtPeek) {
	fail := func(err error) {
		a.emit(ctx, &messages.RtEvent{Event: &messages.RtEvent_Peek{Peek: &messages.RtPeekResponse{Uuid: m.GetUuid(), Result: &messages.RtPeekResponse_Error{Error: err.Error()}}}})
	}
	id, err := m.GetCollection().ToTimely()
	if err != nil {
		fail(fmt.Errorf("%w: peek: %v", ErrInvalidCommand, err))
		return
	}
	spec, ok := a.flows[id]
	if !ok {
		fail(fmt.Errorf("%w: peek: no flow exports %s on this replica", ErrInvalidCommand, id))
		return
	}
	ps, err := decodePeek(m, spec.Plan)
	if err != nil {
		fail(err)
		return
	}
	a.nextId++
	a.peeks[a.nextId] = m.GetUuid()
	ctx.Send(a.pool, &pool.Peek{Id: a.nextId, Flow: spec.Id, Spec: ps, ReplyTo: ctx.Self()})
}

func (a *runtimeActor) handlePeekReply(ctx actor.Context, m *pool.PeekReply) {
	uuid, ok := a.peeks[m.Id]
	if !ok {
		return
	}
	delete(a.peeks, m.Id)
	resp := &messages.RtPeekResponse{Uuid: uuid}
	if m.Err != nil {
		resp.Result = &messages.RtPeekResponse_Error{Error: m.Err.Error()}
	} else {
		resp.Result = &messages.RtPeekResponse_Rows{Rows: &messages.RtPeekRows{Rows: rowsToWire(m.Rows)}}
	}
	a.emit(ctx, &messages.RtEvent{Event: &messages.RtEvent_Peek{Peek: resp}})
}

func (a *runtimeActor) handleFlowEvents(ctx actor.Context, m *coordinator.FlowEvents) {
	for _, e := range m.Events {
		col := messages.FromGlobalId(e.Export)
		switch e.Kind {
		case coordinator.FrontierAdvanced:
			if _, ok := a.flows[e.Export]; ok {
				a.checkpoints[e.Export] = max(a.checkpoints[e.Export], e.Upper)
			}
			a.emit(ctx, &messages.RtEvent{Event: &messages.RtEvent_Frontier{Frontier: &messages.RtFrontierAdvanced{Collection: col, Upper: messages.FromFrontier(timely.At(e.Upper))}}})
		case coordinator.Hydrated:
			a.emit(ctx, &messages.RtEvent{Event: &messages.RtEvent_Hydrated{Hydrated: &messages.RtHydrated{Collection: col}}})
		case coordinator.FlowFailed:
			if e.Removed {
				delete(a.flows, e.Export)
				delete(a.checkpoints, e.Export)
			}
			a.emitError(ctx, col, e.Err.Error())
		}
	}
}

func (a *runtimeActor) emitError(ctx actor.Context, col *messages.GlobalId, msg string) {
	a.cfg.Logger.Warn("replica runtime error", "collection", col, "err", msg)
	a.emit(ctx, &messages.RtEvent{Event: &messages.RtEvent_Error{Error: &messages.RtError{Collection: col, Message: msg}}})
}

func (a *runtimeActor) emit(ctx actor.Context, ev *messages.RtEvent) {
	if a.cfg.Events != nil {
		ctx.Send(a.cfg.Events, ev)
	}
}

// ticker owns the goroutine that turns clock ticks into tickAt messages.
type ticker struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func startTicker(cfg Config, root *actor.RootContext, self *actor.PID) *ticker {
	t := &ticker{done: make(chan struct{})}
	tk := cfg.Clock.NewTicker(cfg.TickInterval)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer tk.Stop()
		for {
			select {
			case <-t.done:
				return
			case now := <-tk.C():
				root.Send(self, &tickAt{coordinator.Tick{Now: now}})
			}
		}
	}()
	return t
}

func (t *ticker) stop() {
	select {
	case <-t.done:
	default:
		close(t.done)
	}
	t.wg.Wait()
}
