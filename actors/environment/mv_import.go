package environment

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Materialized views read as storage collections (plans.go). A dataflow
// that reads materialized view M imports M's storage collection, on M's
// cluster or another:
//
//   - On another cluster, the instance knows M's collection as a storage
//     collection: the environment registers every materialized view's
//     collection with the instances of the clusters that do not compute it
//     (spawnInstance, and when the view is created), reports its since and
//     upper from storage's frontiers (StorageFrontiers{collections}) like a
//     table's, and applies the instance's read holds on it to storage. The
//     instance schedules a reader once M's upper passes the reader's as_of.
//   - On M's own cluster, the instance knows M's id as the sink export that
//     writes the collection, and holds and schedules the reader on it. Its
//     since is the sink export's read capability, which the environment
//     learns by taking a read hold on it (AcquireReadHold) before choosing
//     the reader's as_of, and releases once the dataflow is created. That
//     hold is not one on M's collection in storage, so the environment
//     also holds the collection there at the as_of until the reader has
//     caught up (import_hold.go).
//
// So a reader's as_of is at or after the since of every table and
// collection it reads, and of every local view it imports. Dropping M
// while a view, index or materialized view reads it is refused, naming
// the dependent (dropCompute), like a table's drop; once M is dropped, the
// other clusters' instances unregister its collection
// (unregisterViewCollection), releasing their holds on it.

// isMaterializedView reports whether o is a materialized view.
func isMaterializedView(o *object) bool {
	return o != nil && o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW
}

// registerViewCollections registers, with the instance of cluster cl, the
// storage collection of every materialized view another cluster computes.
func (a *envActor) registerViewCollections(ctx actor.Context, pid *actor.PID, cl timely.ClusterId) {
	for _, o := range a.core.Objects() {
		if isMaterializedView(o) && o.cluster != cl {
			a.registerTable(ctx, pid, o)
		}
	}
}

// registerViewCollection registers a new materialized view's collection
// with the instances of every other cluster, with its frontiers as storage
// reports them now (a poll may have seen the collection before the view
// was installed, and a poll reports only what moved), then calls done: a
// request sent to an instance after done reaches it after the
// registration.
func (a *envActor) registerViewCollection(ctx actor.Context, o *object, done func()) {
	a.request(ctx, a.cfg.Storage, &messages.StorageFrontiers{Tables: []*messages.GlobalId{messages.FromGlobalId(o.id)}}, func(res any, err error) {
		if r, ok := res.(*messages.StorageFrontiersResponse); ok && err == nil && r.GetError() == nil {
			for _, t := range r.GetTables() {
				since, err1 := t.GetSince().ToTimely()
				upper, err2 := t.GetUpper().ToTimely()
				if err1 != nil || err2 != nil {
					continue
				}
				if old, seen := a.frontiers[o.id]; seen {
					since, upper = since.Join(old.since), upper.Join(old.upper)
				}
				a.frontiers[o.id] = tableFrontiers{since: since, upper: upper}
			}
		} else {
			a.cfg.Logger.Warn("compute: frontiers of a new materialized view's collection unknown; the next poll reports them", "object", o.name, "error", err)
		}
		for cid, pid := range a.instances {
			if cid != o.cluster {
				a.registerTable(ctx, pid, o)
			}
		}
		done()
	})
}

// unregisterViewCollection tells the instances of the other clusters
// that a dropped materialized view's collection is gone: they release
// their read holds on it (to storage, through StorageHolds) and forget it.
// Nothing there reads it any more (dropCompute refused the drop while
// something did).
func (a *envActor) unregisterViewCollection(ctx actor.Context, o *object) {
	a.unregisterStorage(ctx, o.id, o.name, &o.cluster) // unregister.go
}

// frontierTargets returns the instances that learn storage frontiers of
// id: every instance for a table, the instances of the other clusters for
// a materialized view's collection (its own cluster knows it as the sink
// export).
func (a *envActor) frontierTargets(id timely.GlobalId) []*actor.PID {
	o := a.core.byId[id]
	if isMaterializedView(o) && !a.installed[id] {
		return nil // registered with the other clusters once installed
	}
	var out []*actor.PID
	for cid, pid := range a.instances {
		if isMaterializedView(o) && cid == o.cluster {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// localViews returns the materialized views among sources that cluster cl
// computes itself.
func (a *envActor) localViews(cl timely.ClusterId, sources []timely.GlobalId) []timely.GlobalId {
	var out []timely.GlobalId
	for _, id := range sources {
		if o := a.core.byId[id]; isMaterializedView(o) && o.cluster == cl {
			out = append(out, id)
		}
	}
	return out
}

// holdLocalViews takes a read hold on each of views at the instance pid,
// one after the other, and calls cont with the latest of their sinces and
// a function that releases them all (to call once the reader's dataflow
// exists and holds them itself). On an error the holds taken are
// released and cont gets the error.
func (a *envActor) holdLocalViews(ctx actor.Context, pid *actor.PID, views []timely.GlobalId, cont func(since timely.Timestamp, release func(), err error)) {
	var held []instance.HoldId
	var since timely.Timestamp
	release := func() {
		for _, h := range held {
			a.instanceCall(ctx, pid, instance.ReleaseReadHold{Hold: h}, a.logFailure("release read hold", fmt.Sprint(h)))
		}
		held = nil
	}
	var next func(i int)
	next = func(i int) {
		if i == len(views) {
			cont(since, release, nil)
			return
		}
		a.request(ctx, pid, instance.AcquireReadHold{Id: views[i]}, func(res any, err error) {
			if err == nil {
				r, ok := res.(instance.ReadHoldReply)
				switch {
				case !ok:
					err = errorf(ErrInternal, "the instance answered %T", res)
				case r.Err != nil:
					err = messages.ErrorFromWire(r.Err)
				default:
					held = append(held, r.Hold.Id)
					t, open := r.Hold.Since.Time()
					if !open {
						err = errorf(messages.ErrDropped, "materialized view %s is dropped", views[i])
					}
					since = max(since, t)
				}
			}
			if err != nil {
				release()
				cont(0, func() {}, fmt.Errorf("hold materialized view %s on its cluster: %w", views[i], err))
				return
			}
			next(i + 1)
		})
	}
	next(0)
}

// installAll installs the dataflows of objs (one cluster's, in id order,
// the order of creation). Those that read no materialized view of their
// own cluster are sent at once, in order, so that requests sent after
// them (a peek) reach the instance after them. The others hold their
// local views at the instance first (install), so they start once the
// first ones are installed (or failed), and then go one after the other.
func (a *envActor) installAll(ctx actor.Context, objs []*object) {
	var now, later []*object
	for _, o := range objs {
		_, sources, err := a.core.describe(o, 0)
		if err == nil && len(later) == 0 && len(a.localViews(o.cluster, sources)) == 0 {
			now = append(now, o)
		} else {
			later = append(later, o)
		}
	}
	// Peeks of the later ones wait for them (install_wait.go).
	a.markInstalling(later)
	pending := len(now)
	if pending == 0 {
		a.installInOrder(ctx, later)
		return
	}
	for _, o := range now {
		a.install(ctx, o, func(err error) {
			a.logFailure("install dataflow", o.name)(err)
			if pending--; pending == 0 {
				a.installInOrder(ctx, later)
			}
		})
	}
}

// installInOrder installs objs one after the other, each once the one
// before it is installed (or failed).
func (a *envActor) installInOrder(ctx actor.Context, objs []*object) {
	if len(objs) == 0 {
		return
	}
	o := objs[0]
	a.install(ctx, o, func(err error) {
		a.logFailure("install dataflow", o.name)(err)
		a.installInOrder(ctx, objs[1:])
	})
}
