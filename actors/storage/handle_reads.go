package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Snapshots and range reads (the backfill read) are planned in the
// actor's turn (State checks the sinces and the upper) and then read in a
// goroutine the actor owns, which reports back with readDone, so the actor
// keeps answering while they run. Each read pins its tables at the time it
// reads from (State.PinRead), so compaction cannot pass it; it reads
// through the shard handles it was given, and a drop (which closes a
// handle) waits for the reads in flight. Stopping cancels the reads,
// waits for them and fails the unfinished ones with ErrStopping;
// restarting hands the unfinished ones to the next incarnation, which
// reads again. Subscription replay stays in the actor's
// turn: no group may be applied between the replay and the first live
// batch.

// readInFlight is a snapshot or range read running in its goroutine.
type readInFlight struct {
	sender *actor.PID
	req    proto.Message
	pin    uint64
	cancel context.CancelFunc
	// done closes when the goroutine has finished; resp or err is its
	// outcome, readable after done.
	done chan struct{}
	resp proto.Message
	err  error
}

// readDone reports that read r finished.
type readDone struct{ r *readInFlight }

// startRead runs read in a goroutine the actor owns, with table pin pin
// held until it is done, and answers the current request with its result.
func (a *storageActor) startRead(ctx actor.Context, pin uint64, read func(context.Context) (proto.Message, error)) {
	parent, cancel := context.WithCancel(context.Background())
	r := &readInFlight{sender: ctx.Sender(), req: ctx.Message().(proto.Message), pin: pin, cancel: cancel, done: make(chan struct{})}
	a.reads[r] = true
	root, self := ctx.ActorSystem().Root, ctx.Self()
	go func() {
		defer close(r.done)
		r.resp, r.err = read(parent)
		root.Send(self, readDone{r: r})
	}()
}

// handleReadDone answers a finished read, releases its pin, and runs what
// waited for the reads to end (a drop).
func (a *storageActor) handleReadDone(ctx actor.Context, m readDone) {
	r := m.r
	if !a.reads[r] {
		return // from an incarnation that stopped it
	}
	<-r.done
	a.endRead(ctx, r, r.err)
	a.drain(ctx)
}

// endRead answers read r (with err when it failed), forgets it and
// releases its pin.
func (a *storageActor) endRead(ctx actor.Context, r *readInFlight, err error) {
	r.cancel()
	delete(a.reads, r)
	if a.state != nil {
		a.state.UnpinRead(r.pin)
	}
	resp := r.resp
	if err != nil {
		resp = failedResponse(r.req, messages.ErrorToWire(err))
	}
	a.reply(ctx, r.sender, resp)
}

// requeueReads cancels the reads in flight (the actor is restarting),
// waits for them, answers those that finished and puts the others first
// among the deferred requests, which the next incarnation serves.
func (a *storageActor) requeueReads(ctx actor.Context) {
	for r := range a.reads {
		r.cancel()
		<-r.done
		if r.err == nil {
			a.endRead(ctx, r, nil)
			continue
		}
		delete(a.reads, r)
		a.deferred = append([]deferredRequest{{sender: r.sender, msg: r.req}}, a.deferred...)
	}
}

// abortReads cancels the reads in flight, waits for them and answers
// them: with their result when they finished, else with ErrStopping.
func (a *storageActor) abortReads(ctx actor.Context, why string) {
	for r := range a.reads {
		r.cancel()
		<-r.done
		err := r.err
		if err != nil {
			err = errorf(ErrStopping, "the read was not finished (%s)", why)
		}
		a.endRead(ctx, r, err)
	}
}

func (a *storageActor) handleSnapshot(ctx actor.Context, m *messages.StorageSnapshot) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageSnapshotResponse{Error: messages.ErrorToWire(err)})
	}
	if ctx.Sender() == nil {
		a.respond(ctx, nil) // logs: the answer has nowhere to go
		return
	}
	ids, err := decodeIds("snapshot", m.GetTables())
	if err != nil {
		fail(err)
		return
	}
	tables, t, err := a.state.PlanSnapshot(ids, m.AsOf)
	if err != nil {
		fail(err)
		return
	}
	handles := a.handles(tables)
	timeout := a.cfg.CallTimeout
	a.startRead(ctx, a.state.PinRead(tables, t), func(parent context.Context) (proto.Message, error) {
		resp := &messages.StorageSnapshotResponse{AsOf: uint64(t)}
		for i, id := range tables {
			tc, err := snapshotTable(parent, timeout, id, handles[i], t)
			if err != nil {
				return nil, err
			}
			resp.Tables = append(resp.Tables, tc)
		}
		return resp, nil
	})
}

func (a *storageActor) handleReadRange(ctx actor.Context, m *messages.StorageReadRange) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageReadRangeResponse{Lo: m.GetLo(), Error: messages.ErrorToWire(err)})
	}
	if ctx.Sender() == nil {
		a.respond(ctx, nil) // logs: the answer has nowhere to go
		return
	}
	ids, err := decodeIds("read range", m.GetTables())
	if err != nil {
		fail(err)
		return
	}
	plan, err := a.state.PlanRange(ids, timely.Timestamp(m.Lo), timely.Timestamp(m.Hi))
	if err != nil {
		fail(err)
		return
	}
	resp := &messages.StorageReadRangeResponse{Lo: m.Lo, CompleteTo: uint64(plan.CompleteTo)}
	for _, id := range plan.Tables {
		resp.Frontiers = append(resp.Frontiers, a.frontiersOf(id))
	}
	at := plan.CompleteTo
	for _, s := range plan.Starts {
		at = min(at, s)
	}
	handles := a.handles(plan.Tables)
	timeout := a.cfg.CallTimeout
	a.startRead(ctx, a.state.PinRead(plan.Tables, at), func(parent context.Context) (proto.Message, error) {
		vs, err := readPlan(parent, timeout, plan, handles, true)
		if err != nil {
			return nil, err
		}
		resp.Versions = vs
		return resp, nil
	})
}

// handles returns the open shard handles of live tables, for a read
// goroutine (which must not touch the actor's map).
func (a *storageActor) handles(tables []timely.GlobalId) []persistence.Shard {
	hs := make([]persistence.Shard, len(tables))
	for i, id := range tables {
		hs[i] = a.shards.tables[id]
	}
	return hs
}

// call returns the context of one backend call: it ends Config.CallTimeout
// from now. Every backend call made while handling a message takes one.
func (a *storageActor) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.cfg.CallTimeout)
}

// snapshotTable reads table id's contents at t from shard s, within one
// call deadline (timeout) under parent.
func snapshotTable(parent context.Context, timeout time.Duration, id timely.GlobalId, s persistence.Shard, t timely.Timestamp) (*messages.StorageTableChanges, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	tc, err := snapshotRows(ctx, id, s, t)
	if err != nil {
		return nil, readError(ctx, timeout, fmt.Sprintf("snapshot table %s at %d", id, t), id, err)
	}
	return tc, nil
}

// readPlan performs range read p through handles (parallel to p.Tables);
// each table's read has one call deadline (timeout) under parent. Each
// shard read seeks to its start and stops at CompleteTo, so its cost is
// that of the range, not of the shard's history, and a backfill in chunks
// stays linear.
//
// With sinceFloor (a backfill read, which reports the history before a
// since at the since) a shard compacted past its start is read from the
// shard's since instead: a read-only actor's sinces trail the compaction
// of the writer it shares the shards with (fence.go). A replay must not
// do that (it would repeat what its subscriber saw) and fails COMPACTED.
func readPlan(parent context.Context, timeout time.Duration, p RangePlan, handles []persistence.Shard, sinceFloor bool) ([]*messages.StorageVersion, error) {
	ups := make([][]persistence.Update, len(p.Tables))
	for i, id := range p.Tables {
		ctx, cancel := context.WithTimeout(parent, timeout)
		u, err := handles[i].ReadRange(ctx, p.Starts[i], p.CompleteTo)
		var since *persistence.SinceError
		if sinceFloor && errors.As(err, &since) {
			if st, ok := since.Since.Time(); ok && st > p.Starts[i] && st < p.CompleteTo {
				u, err = handles[i].ReadRange(ctx, st, p.CompleteTo)
			}
		}
		if err != nil {
			err = readError(ctx, timeout, fmt.Sprintf("read table %s [%d, %d)", id, p.Starts[i], p.CompleteTo), id, err)
		}
		cancel()
		if err != nil {
			return nil, err
		}
		ups[i] = u
	}
	vs, err := versionsOf(p.Tables, ups)
	if err != nil {
		return nil, fmt.Errorf("%w: read range: %w", ErrBackend, err)
	}
	return vs, nil
}

// readError classifies the error of shard read op on table id made under
// ctx (deadline timeout): a since or upper the read fell outside of, a
// timeout, or a backend failure.
func readError(ctx context.Context, timeout time.Duration, op string, id timely.GlobalId, err error) error {
	var since *persistence.SinceError
	var notYet *persistence.NotYetReadableError
	switch {
	case errors.As(err, &since):
		err = fmt.Errorf("%w: %s: %w", ErrCompacted, op, err)
	case errors.As(err, &notYet):
		err = fmt.Errorf("%w: %s: %w", ErrNotYetReadable, op, err)
	default:
		err = backendError(ctx, timeout, op, err)
	}
	return onTable(id, err)
}
