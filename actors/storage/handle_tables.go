package storage

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// decodeId decodes a table id field.
func decodeId(what string, w *messages.GlobalId) (timely.GlobalId, error) {
	if w == nil {
		return timely.GlobalId{}, errorf(ErrMalformed, "%s: table id is missing", what)
	}
	id, err := w.ToTimely()
	if err != nil {
		return timely.GlobalId{}, fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	return id, nil
}

// decodeIds decodes a list of table ids.
func decodeIds(what string, ws []*messages.GlobalId) ([]timely.GlobalId, error) {
	ids := make([]timely.GlobalId, len(ws))
	for i, w := range ws {
		id, err := decodeId(fmt.Sprintf("%s: table %d", what, i), w)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// failOnBackend panics after a backend error or timeout in a durable write
// that leaves the shards' state unknown; the supervisor restarts the actor,
// which recovers from the shards.
func (a *storageActor) failOnBackend(err error) {
	if outcomeUnknown(err) {
		a.cfg.Logger.Error("backend failure", "err", err)
		panic(err)
	}
}

func (a *storageActor) handleCreateTable(ctx actor.Context, m *messages.StorageCreateTable) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageCreateTableResponse{Table: m.GetTable(), Error: messages.ErrorToWire(err)})
	}
	id, err := decodeId("create table", m.GetTable())
	if err != nil {
		fail(err)
		return
	}
	schema, err := dataflow.SchemaFromWire(m.GetSchema())
	if err != nil {
		fail(fmt.Errorf("%w: create table %s: %w", ErrMalformed, id, err))
		return
	}
	if err = a.state.CheckCreate(id, schema); err != nil {
		fail(err)
		return
	}
	if a.inflight != nil {
		// The new table joins the common upper, which the group in
		// flight is moving.
		a.deferNow(ctx)
		return
	}
	cctx, cancel := a.call()
	err = a.shards.createTable(cctx, TableInfo{Id: id, Schema: schema, Upper: a.state.Upper(), AppendOnly: m.GetAppendOnly()})
	cancel()
	if err != nil {
		fail(err)
		a.failOnBackend(err)
		return
	}
	a.state.CreateTable(id, schema, m.GetAppendOnly())
	a.refreshGauges()
	a.respond(ctx, &messages.StorageCreateTableResponse{Table: m.Table, Frontiers: a.frontiersOf(id)})
}

func (a *storageActor) handleDropTable(ctx actor.Context, m *messages.StorageDropTable) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageDropTableResponse{Table: m.GetTable(), Error: messages.ErrorToWire(err)})
	}
	id, err := decodeId("drop table", m.GetTable())
	if err != nil {
		fail(err)
		return
	}
	if err := a.state.CheckDrop(id); err != nil {
		fail(err)
		return
	}
	if a.inflight != nil || a.state.Pending() > 0 || len(a.reads) > 0 {
		// Writes staged before the drop commit first (they were
		// accepted); the drop waits for their group, and for the reads
		// in flight (it closes the table's shard handle).
		a.commit(ctx)
		a.deferNow(ctx)
		return
	}
	_, upper, _ := a.state.Frontiers(id)
	cctx, cancel := a.call()
	info, _ := a.state.Info(id) // CheckDrop found it
	closeErr, err := a.shards.dropTable(cctx, info, upper)
	cancel()
	if err != nil {
		fail(err)
		a.failOnBackend(err)
		return
	}
	if closeErr != nil {
		a.cfg.Logger.Warn("dropped table's shard upper not closed", "table", id, "err", closeErr)
	}
	ds := a.state.DropTable(id)
	a.refreshGauges()
	a.respond(ctx, &messages.StorageDropTableResponse{Table: m.Table})
	a.deliver(ctx, ds)
}

func (a *storageActor) handleFrontiers(ctx actor.Context, m *messages.StorageFrontiers) {
	resp := &messages.StorageFrontiersResponse{Upper: messages.FromFrontier(a.state.Upper())}
	ids, err := decodeIds("frontiers", m.GetTables())
	named := len(ids) > 0
	if err == nil {
		ids, err = a.state.resolve(ids)
	}
	if err != nil {
		a.respond(ctx, &messages.StorageFrontiersResponse{Error: messages.ErrorToWire(err)})
		return
	}
	if !named && m.GetCollections() {
		ids = append(ids, a.state.LiveCollections()...)
	}
	for _, id := range ids {
		resp.Tables = append(resp.Tables, a.frontiersOf(id))
	}
	a.respond(ctx, resp)
}

// frontiersOf returns a live table's or collection's frontiers, kind and
// schema.
func (a *storageActor) frontiersOf(id timely.GlobalId) *messages.StorageTableFrontiers {
	since, upper, err := a.state.Frontiers(id)
	if err != nil {
		return nil
	}
	schema, _ := a.state.Schema(id)
	return &messages.StorageTableFrontiers{
		Table:      messages.FromGlobalId(id),
		Since:      messages.FromFrontier(since),
		Upper:      messages.FromFrontier(upper),
		Collection: a.state.IsCollection(id),
		Schema:     dataflow.SchemaToWire(schema),
	}
}
