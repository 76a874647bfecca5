package environment

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// IdAllocator is the catalog allocator user objects take their ids from.
const IdAllocator = "user"

// A DDL statement runs alone (ddlBusy) and in this order:
//
//	validate -> catalog Transact (ids, name uniqueness, audit log)
//	         -> storage create/drop table
//	         -> answer
//
// The catalog is the truth. A create whose storage step fails is rolled
// back in the catalog; if that rollback fails too, the table stays in the
// catalog and the next bootstrap creates it in storage. A drop whose
// storage step fails leaves an orphan table in storage that nothing names;
// the next bootstrap drops it.

func (a *envActor) handleCreateTable(ctx actor.Context, m *messages.ClientCreateTable, sender *actor.PID) {
	const kind = "create table"
	fail := func(err error) {
		a.fail(ctx, m, sender, err)
		a.ddlDone(ctx)
	}
	if _, err := a.session(m.GetConn()); err != nil {
		fail(err)
		return
	}
	name := m.GetName()
	o, err := validateTable(m)
	if err != nil {
		fail(err)
		return
	}
	if existing, ok := a.core.objects[name]; ok {
		if m.GetIfNotExists() && existing.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE {
			a.reply(ctx, sender, kind, &messages.ClientCreateTableResponse{Object: existing.toWire(a.core)}, nil)
			a.ddlDone(ctx)
			return
		}
		fail(errorf(ErrObjectExists, "create table %q: a %s of that name exists", name, typeName(existing.typ)))
		return
	}
	def, err := proto.MarshalOptions{Deterministic: true}.Marshal(&messages.ClientTableDefinition{Schema: m.GetSchema(), KeyColumns: m.GetKeyColumns(),
		AppendOnly: m.GetAppendOnly()})
	if err != nil {
		fail(errorf(ErrInternal, "create table %q: encode definition: %v", name, err))
		return
	}
	// Apply may run twice (see catalog.Transact); the last run's id is the
	// one committed. The guardian's reply orders these writes before the
	// continuation's read.
	var id timely.GlobalId
	apply := func(tx *durable.Transaction) error {
		first, err := tx.AllocateIds(IdAllocator, 1)
		if err != nil {
			return err
		}
		id = timely.UserId(first)
		return tx.CreateItem(&messages.CatalogItem{Id: messages.FromGlobalId(id), Name: name,
			Type: messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE, Definition: def})
	}
	a.transact(ctx, apply, func(err error) {
		if err != nil {
			fail(fmt.Errorf("create table %q: %w", name, err))
			return
		}
		o.id = id
		a.request(ctx, a.cfg.Storage, &messages.StorageCreateTable{Table: messages.FromGlobalId(id), Schema: m.GetSchema(), AppendOnly: o.appendOnly}, func(res any, err error) {
			if err == nil {
				if r, ok := res.(*messages.StorageCreateTableResponse); !ok {
					err = errorf(ErrInternal, "storage answered %T", res)
				} else {
					err = storageError(r.GetError())
				}
			}
			if err != nil {
				a.rollbackCreate(ctx, o, fmt.Errorf("create table %q: storage: %w", name, err), fail)
				return
			}
			a.core.AddObject(o)
			if r, ok := res.(*messages.StorageCreateTableResponse); ok && r.GetFrontiers() != nil {
				a.applyFrontiers(ctx, []*messages.StorageTableFrontiers{r.GetFrontiers()})
			}
			for _, pid := range a.instances {
				a.registerTable(ctx, pid, o)
			}
			a.reply(ctx, sender, kind, &messages.ClientCreateTableResponse{Object: o.toWire(a.core)}, nil)
			a.ddlDone(ctx)
		})
	})
}

// rollbackCreate drops the item a create committed when its storage step
// failed, then answers the create's error.
func (a *envActor) rollbackCreate(ctx actor.Context, o *object, cause error, fail func(error)) {
	a.transact(ctx, func(tx *durable.Transaction) error { return tx.DropItem(o.id) }, func(err error) {
		if err != nil {
			// The catalog keeps the table: serve it, and let the next
			// bootstrap create it in storage.
			a.cfg.Logger.Warn("rollback of a failed create left the table in the catalog; the next start creates it in storage",
				"table", o.name, "id", o.id, "cause", cause, "rollback_error", err)
			a.core.AddObject(o)
		}
		fail(cause)
	})
}

// validateTable checks a create table request and returns the object it
// describes (without its id).
func validateTable(m *messages.ClientCreateTable) (*object, error) {
	name := m.GetName()
	if strings.TrimSpace(name) == "" {
		return nil, errorf(ErrInvalidRequest, "create table: the table needs a name")
	}
	if len(m.GetSchema().GetColumns()) == 0 {
		return nil, errorf(ErrInvalidRequest, "create table %q: the table needs at least one column", name)
	}
	schema, err := dataflow.SchemaFromWire(m.GetSchema())
	if err != nil {
		return nil, errorf(ErrInvalidRequest, "create table %q: %v", name, err)
	}
	seen := map[string]bool{}
	for i, c := range schema {
		if c.Name == "" {
			return nil, errorf(ErrInvalidRequest, "create table %q: column %d needs a name", name, i)
		}
		if seen[c.Name] {
			return nil, errorf(ErrInvalidRequest, "create table %q: column %q appears twice", name, c.Name)
		}
		seen[c.Name] = true
	}
	keys := map[string]bool{}
	for _, k := range m.GetKeyColumns() {
		if !seen[k] {
			return nil, errorf(ErrInvalidRequest, "create table %q: key column %q is not a column (columns are %s)", name, k, schema)
		}
		if keys[k] {
			return nil, errorf(ErrInvalidRequest, "create table %q: key column %q appears twice", name, k)
		}
		keys[k] = true
	}
	return &object{name: name, typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE, schema: schema,
		keys: append([]string(nil), m.GetKeyColumns()...), appendOnly: m.GetAppendOnly()}, nil
}

func (a *envActor) handleDrop(ctx actor.Context, m *messages.ClientDrop, sender *actor.PID) {
	const kind = "drop"
	fail := func(err error) {
		a.fail(ctx, m, sender, err)
		a.ddlDone(ctx)
	}
	if _, err := a.session(m.GetConn()); err != nil {
		fail(err)
		return
	}
	name := m.GetName()
	switch m.GetType() {
	case messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE:
	case messages.ClientObjectType_CLIENT_OBJECT_TYPE_UNSPECIFIED:
		fail(errorf(ErrInvalidRequest, "drop %q: say what type of object to drop", name))
		return
	default:
		if !a.computeEnabled() {
			fail(fmt.Errorf("drop %s %q: %w", strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(m.GetType().String(), "CLIENT_OBJECT_TYPE_"), "_", " ")), name, ErrNeedsCompute))
			return
		}
		a.dropCompute(ctx, m.GetType(), name, m.GetIfExists(), func(dropped bool) {
			a.reply(ctx, sender, kind, &messages.ClientDropResponse{Dropped: dropped}, nil)
			a.ddlDone(ctx)
		}, fail)
		return
	}
	o, ok := a.core.objects[name]
	if !ok {
		if m.GetIfExists() {
			a.reply(ctx, sender, kind, &messages.ClientDropResponse{Dropped: false}, nil)
			a.ddlDone(ctx)
			return
		}
		fail(errorf(ErrUnknownObject, "drop table %q: it does not exist", name))
		return
	}
	if o.typ != messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE {
		fail(errorf(ErrInvalidRequest, "drop table %q: it is a %s", name, typeName(o.typ)))
		return
	}
	if deps := a.core.Dependents(o.id); len(deps) > 0 {
		fail(errorf(ErrInvalidRequest, "drop table %q: %s %q depends on it; drop that first", name, typeName(deps[0].typ), deps[0].name))
		return
	}
	a.transact(ctx, func(tx *durable.Transaction) error { return tx.DropItem(o.id) }, func(err error) {
		if err != nil {
			fail(fmt.Errorf("drop table %q: %w", name, err))
			return
		}
		a.core.RemoveObject(o.id)
		a.cancelByDrop(ctx, o)
		// Every instance forgets it and releases its holds on it.
		a.unregisterStorage(ctx, o.id, o.name, nil) // unregister.go
		a.request(ctx, a.cfg.Storage, &messages.StorageDropTable{Table: messages.FromGlobalId(o.id)}, func(res any, err error) {
			if err == nil {
				if r, ok := res.(*messages.StorageDropTableResponse); ok {
					err = storageError(r.GetError())
				}
			}
			if err != nil {
				a.cfg.Logger.Warn("storage did not drop a table the catalog dropped; the next start drops it",
					"table", name, "id", o.id, "error", err)
			}
			a.reply(ctx, sender, kind, &messages.ClientDropResponse{Dropped: true}, nil)
			a.ddlDone(ctx)
		})
	})
}

// transact runs apply in a catalog transaction and calls done with the
// outcome (catalog errors given their wire codes) in the actor's turn.
func (a *envActor) transact(ctx actor.Context, apply func(*durable.Transaction) error, done func(error)) {
	a.request(ctx, a.cfg.Catalog, &catalog.Transact{Apply: apply}, func(res any, err error) {
		if err != nil {
			a.resync(ctx, err) // a timeout: the commit may have happened
			done(err)
			return
		}
		r, ok := res.(*catalog.TransactResult)
		if !ok {
			done(errorf(ErrInternal, "catalog answered %T", res))
			return
		}
		err = catalogError(r.Err)
		if errors.Is(err, messages.ErrBackend) {
			a.resync(ctx, err)
		}
		done(err)
	})
}

// request sends req to pid and runs cont with the answer in the actor's
// turn (ReenterAfter); the actor keeps serving meanwhile. A peer that does
// not answer within CallTimeout gives cont a TIMEOUT error naming the
// request.
func (a *envActor) request(ctx actor.Context, pid *actor.PID, req any, cont func(res any, err error)) {
	f := ctx.RequestFuture(pid, req, a.cfg.CallTimeout)
	ctx.ReenterAfter(f, func(res any, err error) {
		if err != nil {
			err = withCode(messages.ErrorCode_ERROR_CODE_TIMEOUT, fmt.Errorf("%T to %s: no answer within %s: %w", req, pid.GetId(), a.cfg.CallTimeout, err))
		}
		cont(res, err)
	})
}

// cancelByDrop ends, through the tracker, every peek reading a dropped
// object, with the drop's name, and ends the subscribes reading it.
func (a *envActor) cancelByDrop(ctx actor.Context, o *object) {
	what := fmt.Sprintf("%s %q", typeName(o.typ), o.name)
	a.cfg.Tracker.Send(querytracker.CancelByDrop{Collections: map[timely.GlobalId]string{o.id: what}})
	for _, sub := range a.sortedSubscriptions() {
		if !sub.ended && slices.Contains(sub.reads, o.id) {
			a.endSubscription(ctx, sub, errorf(ErrCanceled, "subscribe %q: %s was dropped", sub.name, what))
		}
	}
}
