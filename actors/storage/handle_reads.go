package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

func (a *storageActor) handleSnapshot(ctx actor.Context, m *messages.StorageSnapshot) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageSnapshotResponse{Error: messages.ErrorToWire(err)})
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
	resp := &messages.StorageSnapshotResponse{AsOf: uint64(t)}
	for _, id := range tables {
		tc, err := a.snapshotRows(id, t)
		if err != nil {
			fail(err)
			return
		}
		resp.Tables = append(resp.Tables, tc)
	}
	a.respond(ctx, resp)
}

func (a *storageActor) handleReadRange(ctx actor.Context, m *messages.StorageReadRange) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageReadRangeResponse{Lo: m.GetLo(), Error: messages.ErrorToWire(err)})
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
	versions, err := a.readPlan(plan)
	if err != nil {
		fail(err)
		return
	}
	resp := &messages.StorageReadRangeResponse{Lo: m.Lo, CompleteTo: uint64(plan.CompleteTo), Versions: versions}
	for _, id := range plan.Tables {
		resp.Frontiers = append(resp.Frontiers, a.frontiersOf(id))
	}
	a.respond(ctx, resp)
}

// call returns the context of one backend call: it ends Config.CallTimeout
// from now. Every backend call made while handling a message takes one.
func (a *storageActor) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.cfg.CallTimeout)
}

// snapshotRows reads table id's contents at t, within one call deadline.
func (a *storageActor) snapshotRows(id timely.GlobalId, t timely.Timestamp) (*messages.StorageTableChanges, error) {
	ctx, cancel := a.call()
	defer cancel()
	tc, err := snapshotRows(ctx, id, a.shards.tables[id], t)
	if err != nil {
		return nil, a.readError(ctx, fmt.Sprintf("snapshot table %s at %d", id, t), id, err)
	}
	return tc, nil
}

// readPlan performs a range read; each table's read has one call deadline.
func (a *storageActor) readPlan(p RangePlan) ([]*messages.StorageVersion, error) {
	ups := make([][]persistence.Update, len(p.Tables))
	for i, id := range p.Tables {
		ctx, cancel := a.call()
		u, err := readRange(ctx, a.shards.tables[id], p.Starts[i], p.CompleteTo)
		if err != nil {
			err = a.readError(ctx, fmt.Sprintf("read table %s [%d, %d)", id, p.Starts[i], p.CompleteTo), id, err)
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
// ctx: a since or upper the read fell outside of, a timeout, or a backend
// failure.
func (a *storageActor) readError(ctx context.Context, op string, id timely.GlobalId, err error) error {
	var since *persistence.SinceError
	var notYet *persistence.NotYetReadableError
	switch {
	case errors.As(err, &since):
		err = fmt.Errorf("%w: %s: %w", ErrCompacted, op, err)
	case errors.As(err, &notYet):
		err = fmt.Errorf("%w: %s: %w", ErrNotYetReadable, op, err)
	default:
		err = backendError(ctx, a.cfg.CallTimeout, op, err)
	}
	return onTable(id, err)
}
