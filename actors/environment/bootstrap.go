package environment

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Bootstrap brings storage in line with the catalog before the environment
// serves anything but connects:
//
//	GetSnapshot (catalog) -> StorageFrontiers (live tables)
//	  -> create every catalog table storage lacks,
//	     drop every storage table the catalog does not name
//	  -> ready: replay the requests that waited
//
// Any failure abandons the attempt; the next tick starts another.

// resync makes the environment bootstrap again after a catalog call whose
// outcome is unknown (a backend error or a timeout): its objects may no
// longer be the catalog's. Requests wait until the reload is done.
func (a *envActor) resync(ctx actor.Context, cause error) {
	if !a.ready {
		return
	}
	a.cfg.Logger.Warn("a catalog call's outcome is unknown; reloading the catalog", "error", cause)
	a.ready = false
	a.bootstrap(ctx)
}

func (a *envActor) bootstrap(ctx actor.Context) {
	a.bootstrapping = true
	retry := func(what string, err error) {
		a.cfg.Logger.Warn("bootstrap failed; retrying", "step", what, "error", err)
		a.bootstrapping = false
	}
	a.request(ctx, a.cfg.Catalog, &catalog.GetSnapshot{}, func(res any, err error) {
		if err == nil {
			if r, ok := res.(*catalog.SnapshotResult); !ok {
				err = errorf(ErrInternal, "catalog answered %T", res)
			} else if err = r.Err; err == nil {
				a.loadCatalog(ctx, r, retry)
				return
			}
		}
		retry("read the catalog", err)
	})
}

func (a *envActor) loadCatalog(ctx actor.Context, r *catalog.SnapshotResult, retry func(string, error)) {
	// Only the objects are reloaded: sessions, pending peeks and the
	// uuid counter survive a bootstrap (a resync runs while serving).
	core := NewCore(a.core.uuidHi)
	core.sessions, core.byClient, core.nextConn = a.core.sessions, a.core.byClient, a.core.nextConn
	core.peeks, core.uuidLo, core.lastWrite = a.core.peeks, a.core.uuidLo, a.core.lastWrite
	var tables []*object
	for _, c := range r.Snapshot.Clusters() {
		id, err := c.GetId().ToTimely()
		if err != nil {
			retry("decode the catalog", err)
			return
		}
		core.AddCluster(&cluster{id: id, name: c.GetName(), replicas: map[string]timely.ReplicaId{}})
	}
	for _, rep := range r.Snapshot.Replicas() {
		id, err1 := rep.GetId().ToTimely()
		cid, err2 := rep.GetClusterId().ToTimely()
		if err := errors.Join(err1, err2); err != nil {
			retry("decode the catalog", err)
			return
		}
		if cl, ok := core.clusterById[cid]; ok {
			cl.replicas[rep.GetName()] = id
		}
	}
	if a.computeEnabled() && len(core.clusters) == 0 {
		a.createDefaultCluster(ctx, retry)
		return
	}
	// The instances' epoch: newer than every earlier environment's (the
	// fence epoch grows with every writable open of the catalog), and than
	// this one's earlier incarnations.
	a.epoch = uint64(r.Snapshot.FenceToken().Epoch)<<16 | a.shared.incarnation&0xffff
	for _, it := range r.Snapshot.Items() {
		o, err := objectFromCatalog(it, core)
		if err != nil {
			retry("decode the catalog", err)
			return
		}
		core.AddObject(o)
		if o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE {
			tables = append(tables, o)
		}
	}
	a.request(ctx, a.cfg.Storage, &messages.StorageFrontiers{}, func(res any, err error) {
		if err == nil {
			if fr, ok := res.(*messages.StorageFrontiersResponse); !ok {
				err = errorf(ErrInternal, "storage answered %T", res)
			} else if err = storageError(fr.GetError()); err == nil {
				a.core, a.shared.core = core, core
				a.reconcile(ctx, tables, fr.GetTables(), retry)
				return
			}
		}
		retry("read storage's tables", err)
	})
}

// reconcile creates and drops storage tables until storage holds exactly
// the catalog's tables, then makes the environment ready.
func (a *envActor) reconcile(ctx actor.Context, tables []*object, live []*messages.StorageTableFrontiers, retry func(string, error)) {
	inStorage := map[timely.GlobalId]bool{}
	for _, t := range live {
		if id, err := t.GetTable().ToTimely(); err == nil {
			inStorage[id] = true
		}
	}
	outstanding := 0
	failed := false
	done := func(what string, err error) {
		outstanding--
		if err != nil && !failed {
			failed = true
			retry(what, err)
		}
		if outstanding == 0 && !failed {
			a.finishBootstrap(ctx)
		}
	}
	var creates []*object
	for _, o := range tables {
		if !inStorage[o.id] {
			creates = append(creates, o)
		}
		delete(inStorage, o.id)
	}
	if a.shared.readOnly {
		// Storage is the serving environment's to change: serve what
		// it has.
		for _, o := range creates {
			a.cfg.Logger.Warn("bootstrap (read-only): storage lacks a catalog table; it is created at promotion", "table", o.name, "id", o.id)
		}
		a.finishBootstrap(ctx)
		return
	}
	outstanding = len(creates) + len(inStorage)
	if outstanding == 0 {
		a.finishBootstrap(ctx)
		return
	}
	for _, o := range creates {
		a.cfg.Logger.Info("bootstrap: creating a catalog table storage lacks", "table", o.name, "id", o.id)
		a.request(ctx, a.cfg.Storage, &messages.StorageCreateTable{Table: messages.FromGlobalId(o.id), Schema: toWireSchema(o), AppendOnly: o.appendOnly}, func(res any, err error) {
			if err == nil {
				if r, ok := res.(*messages.StorageCreateTableResponse); ok {
					err = storageError(r.GetError())
				}
			}
			if errors.Is(err, messages.ErrAlreadyExists) {
				// Storage never reuses a dropped table's id: the table
				// stays in the catalog but cannot be served.
				a.cfg.Logger.Error("bootstrap: storage dropped a table the catalog still holds", "table", o.name, "id", o.id, "error", err)
				err = nil
			}
			done("create table "+o.name, err)
		})
	}
	for id := range inStorage {
		a.cfg.Logger.Info("bootstrap: dropping a storage table the catalog does not hold", "id", id)
		a.request(ctx, a.cfg.Storage, &messages.StorageDropTable{Table: messages.FromGlobalId(id)}, func(res any, err error) {
			if err == nil {
				if r, ok := res.(*messages.StorageDropTableResponse); ok {
					err = storageError(r.GetError())
				}
			}
			done("drop orphan table "+id.String(), err)
		})
	}
}

// finishBootstrap starts compute as the catalog describes it, then makes
// the environment ready.
func (a *envActor) finishBootstrap(ctx actor.Context) {
	a.startCompute(ctx, func() {
		a.bootstrapping = false
		a.becomeReady(ctx)
	})
}

// createDefaultCluster creates DefaultClusterName with one replica
// DefaultReplicaName in a catalog without clusters, then bootstraps again.
func (a *envActor) createDefaultCluster(ctx actor.Context, retry func(string, error)) {
	a.cfg.Logger.Info("bootstrap: the catalog has no cluster; creating the default one", "cluster", DefaultClusterName, "replica", DefaultReplicaName)
	a.transactCluster(ctx, DefaultClusterName, []*messages.ClientReplicaSpec{{Name: DefaultReplicaName}}, func(_ *cluster, err error) {
		if err != nil {
			retry("create the default cluster", err)
			return
		}
		a.bootstrap(ctx)
	})
}
