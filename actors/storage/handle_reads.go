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
		a.respond(ctx, &messages.StorageSnapshotResponse{Error: ErrorToWire(err)})
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
		tc, err := snapshotRows(context.Background(), id, a.shards.tables[id], t)
		if err != nil {
			fail(readError(id, err))
			return
		}
		resp.Tables = append(resp.Tables, tc)
	}
	a.respond(ctx, resp)
}

func (a *storageActor) handleReadRange(ctx actor.Context, m *messages.StorageReadRange) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageReadRangeResponse{Lo: m.GetLo(), Error: ErrorToWire(err)})
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

// readPlan performs a range read. Each shard read seeks to its start and
// stops at CompleteTo, so its cost is that of the range, not of the shard's
// history, and a backfill in chunks stays linear.
func (a *storageActor) readPlan(p RangePlan) ([]*messages.StorageVersion, error) {
	ups := make([][]persistence.Update, len(p.Tables))
	for i, id := range p.Tables {
		u, err := a.shards.tables[id].ReadRange(context.Background(), p.Starts[i], p.CompleteTo)
		if err != nil {
			return nil, readError(id, err)
		}
		ups[i] = u
	}
	vs, err := versionsOf(p.Tables, ups)
	if err != nil {
		return nil, readError(timely.GlobalId{}, err)
	}
	return vs, nil
}

// readError classifies an error of a shard read.
func readError(id timely.GlobalId, err error) error {
	var since *persistence.SinceError
	var notYet *persistence.NotYetReadableError
	switch {
	case errors.As(err, &since):
		return fmt.Errorf("%w: table %s: %w", ErrCompacted, id, err)
	case errors.As(err, &notYet):
		return fmt.Errorf("%w: table %s: %w", ErrNotYetReadable, id, err)
	}
	return fmt.Errorf("%w: read table %s: %w", ErrBackend, id, err)
}
