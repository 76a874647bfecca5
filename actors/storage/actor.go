package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// New returns the props of a storage actor over cfg.Store. It fails when
// the config is incomplete or the metrics cannot be registered. The actor
// opens the table registry and every table shard when it starts (and again
// after a restart), and closes its shard handles when it stops; it does
// not close the Store. A failure to open the shards (within
// Config.OpenTimeout), or a failed or timed-out group commit, panics the
// actor so that its supervisor restarts it (the restart recovers from the
// shards). Group commits run in a goroutine the actor owns
// (group_commit.go); stopping the actor cancels and waits for it.
func New(cfg Config) (*actor.Props, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m, err := NewMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("storage: metrics: %w", err)
	}
	u, err := surface.NewUnhandled("storage", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	c, w := newCarry(), newWriter(cfg)
	return actor.PropsFromProducer(func() actor.Actor { return newStorageActor(cfg, m, u, c, w) }), nil
}

// storageActor is the thin actor around State: it decodes requests, reads
// the clock, performs the shard I/O that State plans and sends what State
// says to send.
type storageActor struct {
	// constant after construction
	cfg       Config
	metrics   *Metrics
	unhandled *surface.Unhandled
	carry     *carry
	writer    *writer // read-only, promoted, fenced (fence.go); shared across restarts

	// guarded by the actor; set in Started
	state  *State
	shards *shards
	// maintainLoop sends maintain every Config.MaintenanceInterval;
	// commitLoop sends commitTick every Config.CommitInterval (nil when
	// zero).
	maintainLoop, commitLoop *clock.Loop
	// commitQueued: a commitNow message is in the mailbox.
	commitQueued bool
	// inflight is the group commit whose appends are running (nil when
	// none); commitWanted and compactWanted record a commit or compaction
	// asked for meanwhile; deferred are the requests waiting for it, in
	// arrival order (group_commit.go).
	inflight                    *groupCommit
	commitWanted, compactWanted bool
	deferred                    []deferredRequest
	// redeferred: the request just handled went back to the deferred
	// queue (drain stops there).
	redeferred bool
	// reads are the snapshots and range reads in flight (handle_reads.go).
	reads map[*readInFlight]bool
	// watched are the owners of subscriptions and holds being watched.
	watched map[string]bool
}

func newStorageActor(cfg Config, m *Metrics, u *surface.Unhandled, c *carry, w *writer) *storageActor {
	return &storageActor{cfg: cfg, metrics: m, unhandled: u, carry: c, writer: w, watched: map[string]bool{}, reads: map[*readInFlight]bool{}}
}

// commitNow asks the actor to commit the staged writes (sent to itself
// behind the writes already in its mailbox).
type commitNow struct{}

// commitTick is the commit ticker (Config.CommitInterval > 0).
type commitTick struct{}

// maintain is the maintenance ticker: compaction and gauges.
type maintain struct{}

// Receive handles one message.
func (a *storageActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.start(ctx)
	case *actor.Stopping:
		st := a.state
		if st == nil { // never started: end what a failed restart carried
			st = NewState(nil, timely.Minimum(), 0)
			if cs, deferred, ok := a.carry.take(ctx.Self()); ok {
				st.RestoreConsumers(cs)
				a.deferred = deferred
			}
		}
		a.deliver(ctx, st.EndSubscriptions(ErrStopping))
		a.stop(ctx, "stopping")
	case *actor.Restarting:
		if a.state != nil {
			// The requests that waited for a group commit, and the
			// unfinished reads, are served by the next incarnation,
			// before anything still in the mailbox.
			a.requeueReads(ctx)
			a.carry.put(ctx.Self(), a.state.TakeConsumers(), a.deferred)
			a.deferred = nil
		}
		a.stop(ctx, "restarting")

	case commitDone:
		a.handleCommitDone(ctx, m)
	case readDone:
		a.handleReadDone(ctx, m)
	case commitNow:
		a.commitQueued = false
		a.commit(ctx)
	case commitTick:
		a.commit(ctx)
	case maintain:
		if readOnly, _ := a.writer.spec(); readOnly {
			a.follow(ctx) // fence.go
			return
		}
		a.compact(ctx)
	case *messages.StorageFrontiers:
		if a.shards == nil { // fenced at open: nothing to serve
			a.respond(ctx, &messages.StorageFrontiersResponse{Error: messages.ErrorToWire(a.writer.fencedErr())})
			return
		}
		a.handleFrontiers(ctx, m)
	case *Promote:
		a.handlePromote(ctx, m)
	default:
		switch {
		case !isRequest(m):
			a.unhandled.Handle(ctx)
		case len(a.deferred) > 0:
			// Behind a request that waits for the group commit in
			// flight: wait too, to take effect in arrival order.
			a.deferred = append(a.deferred, deferredRequest{sender: ctx.Sender(), msg: m})
		default:
			a.handleRequest(ctx)
		}
	}
}

// handleRequest handles ctx.Message(), a request (isRequest).
func (a *storageActor) handleRequest(ctx actor.Context) {
	if a.shards == nil { // fenced at open (start): refuse everything
		if resp := failedResponse(ctx.Message(), messages.ErrorToWire(a.writer.fencedErr())); resp != nil {
			a.respond(ctx, resp)
		}
		return
	}
	if a.refuseWrite(ctx.Message(), func(resp any) { a.respond(ctx, resp.(proto.Message)) }) {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Terminated:
		a.handleTerminated(ctx, m)
	case *messages.StorageWrite:
		a.handleWrite(ctx, m)
	case *messages.StorageCreateTable:
		a.handleCreateTable(ctx, m)
	case *messages.StorageDropTable:
		a.handleDropTable(ctx, m)
	case *messages.StorageCreateCollection:
		a.handleCreateCollection(ctx, m)
	case *messages.StorageAppend:
		a.handleAppend(ctx, m)
	case *messages.StorageSnapshot:
		a.handleSnapshot(ctx, m)
	case *messages.StorageReadRange:
		a.handleReadRange(ctx, m)
	case *messages.StorageSubscribe:
		a.handleSubscribe(ctx, m)
	case *messages.StorageUnsubscribe:
		a.handleUnsubscribe(ctx, m)
	case *messages.StorageAcquireReadHold:
		a.handleAcquireHold(ctx, m)
	case *messages.StorageDowngradeReadHold:
		a.handleDowngradeHold(ctx, m)
	case *messages.StorageReleaseReadHold:
		a.handleReleaseHold(ctx, m)
	case *messages.StorageChangeReadHolds:
		a.handleChangeHolds(ctx, m)
	case *messages.StorageListReadHolds:
		a.handleListHolds(ctx, m)
	}
}

// start recovers the tables from the shards, within Config.OpenTimeout,
// starts the tickers and serves the requests the last incarnation left
// waiting.
func (a *storageActor) start(ctx actor.Context) {
	octx, cancel := context.WithTimeout(context.Background(), a.cfg.OpenTimeout)
	readOnly, token := a.writer.spec()
	sh, rec, err := openShards(octx, a.cfg.Store, a.cfg.CallTimeout, openMode{readOnly: readOnly, token: token})
	var fe *FenceError
	if errors.As(err, &fe) {
		cancel()
		a.startFenced(ctx, fe)
		return
	}
	if err != nil && errors.Is(octx.Err(), context.DeadlineExceeded) {
		err = &TimeoutError{Op: "open the tables", After: a.cfg.OpenTimeout, Err: err}
	} else if err != nil {
		err = fmt.Errorf("storage: open the tables: %w", err)
	}
	cancel()
	if err != nil {
		a.cfg.Logger.Error("cannot open the tables", "err", err)
		panic(err)
	}
	a.shards = sh
	a.state = NewState(rec.tables, rec.upper, a.cfg.CompactionWindow)
	a.state.RestoreLog(rec.logged)
	if token != nil {
		a.state.CommitThroughLog()
	}
	upper := rec.upper
	cs, deferred, carried := a.carry.take(ctx.Self())
	if carried {
		a.resume(ctx, a.state.RestoreConsumers(cs))
	}
	a.startLoops(ctx)
	a.refreshGauges()
	a.cfg.Logger.Debug("storage started", "tables", len(a.state.LiveTables()), "upper", upper, "read_only", readOnly)
	// Requests that waited for a group commit of the last incarnation go
	// first.
	a.deferred = deferred
	a.drain(ctx)
}

// resume brings the subscriptions carried over a restart up to date: each
// gets the versions it missed (a group whose commit failed may have become
// durable in recovery) and progress. A subscription that cannot be resumed
// ends with StorageCdcEnded.
func (a *storageActor) resume(ctx actor.Context, rs []Resume) {
	for _, pid := range a.state.Owners() {
		a.watch(ctx, pid)
	}
	for _, r := range rs {
		upper := messages.FromFrontier(r.Upper)
		replay, err := a.replay(r.Tables, r.From)
		if err != nil {
			a.cfg.Logger.Warn("cannot resume subscription after restart", "subscription", r.Id, "err", err)
			_ = a.state.Unsubscribe(r.Id)
			ctx.Send(r.Owner, &messages.StorageCdcEnded{SubscriptionId: r.Id, Error: messages.ErrorToWire(err)})
			continue
		}
		for _, v := range replay {
			ctx.Send(r.Owner, &messages.StorageCdcBatch{SubscriptionId: r.Id, Batch: v})
		}
		ctx.Send(r.Owner, &messages.StorageCdcProgress{SubscriptionId: r.Id, Upper: upper})
	}
}

// startLoops arms the tickers (before returning, so a test can wait for
// them with ManualClock.WaitForTimers). Their goroutines only send the
// actor a message; the tick is handled in the actor's turn.
func (a *storageActor) startLoops(ctx actor.Context) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	a.maintainLoop = clock.Every(a.cfg.Clock, a.cfg.MaintenanceInterval, func(time.Time) { root.Send(self, maintain{}) })
	if a.cfg.CommitInterval > 0 {
		a.commitLoop = clock.Every(a.cfg.Clock, a.cfg.CommitInterval, func(time.Time) { root.Send(self, commitTick{}) })
	}
}

// stop stops the tickers, cancels the group commit and the reads in
// flight, fails the
// deferred requests (a restart has carried them already) and the staged
// writes (nothing of them was done) and closes the shards.
func (a *storageActor) stop(ctx actor.Context, why string) {
	a.maintainLoop.Stop()
	a.commitLoop.Stop()
	a.maintainLoop, a.commitLoop = nil, nil
	a.abortCommit(ctx, why)
	a.abortReads(ctx, why)
	a.failDeferred(ctx, errorf(ErrStopping, "the request was not served (%s)", why))
	if a.state != nil {
		for _, tok := range a.state.Unstage() {
			err := errorf(ErrStopping, "the write was not committed (%s)", why)
			a.reply(ctx, tok.(*actor.PID), &messages.StorageWriteResponse{Error: messages.ErrorToWire(err)})
		}
	}
	if a.shards != nil {
		a.shards.close()
		a.shards = nil
	}
}

// now returns the clock's time as a timestamp.
func (a *storageActor) now() timely.Timestamp {
	return timely.Timestamp(a.cfg.Clock.Now().UnixMilli())
}

// respond answers the current request's sender; a request without one is
// logged (its answer has nowhere to go).
func (a *storageActor) respond(ctx actor.Context, msg proto.Message) {
	if ctx.Sender() == nil {
		a.cfg.Logger.Warn("request without a sender: send it with Request", "type", fmt.Sprintf("%T", ctx.Message()))
		return
	}
	ctx.Respond(msg)
}

// reply sends msg to pid, when there is one.
func (a *storageActor) reply(ctx actor.Context, pid *actor.PID, msg proto.Message) {
	if pid != nil {
		ctx.Send(pid, msg)
	}
}

// deliver sends what State said to send.
func (a *storageActor) deliver(ctx actor.Context, ds []Delivery) {
	for _, d := range ds {
		ctx.Send(d.To, d.Msg)
	}
}

// watch watches the owner of a subscription or hold, once.
func (a *storageActor) watch(ctx actor.Context, pid *actor.PID) {
	if pid == nil || a.watched[pid.String()] {
		return
	}
	a.watched[pid.String()] = true
	ctx.Watch(pid)
}

// handleTerminated releases the subscriptions and holds of a terminated
// owner and compacts what they held back.
func (a *storageActor) handleTerminated(ctx actor.Context, m *actor.Terminated) {
	delete(a.watched, m.Who.String())
	if a.state.ReleaseOwner(m.Who) {
		a.cfg.Logger.Debug("released the holds of a terminated consumer", "pid", m.Who)
		a.compact(ctx)
	}
}

// refreshGauges sets the gauges from State.
func (a *storageActor) refreshGauges() {
	a.metrics.Tables.Set(float64(len(a.state.LiveTables())))
	a.metrics.Subscriptions.Set(float64(len(a.state.subs)))
	a.metrics.CdcLag.Set(float64(a.state.CdcLag()))
}
