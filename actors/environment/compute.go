package environment

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// The environment owns compute (when Config.Launcher is set): one Instance
// child per catalog cluster, to which it
//
//   - registers every table (RegisterStorage, with storage's since and
//     upper) and reports storage's frontiers at every tick
//     (UpdateStorageFrontiers, from one StorageFrontiers poll at a time);
//   - adds the cluster's catalog replicas (AddReplica; the runtimes come
//     from Config.Launcher);
//   - installs the dataflows of the cluster's indexes and materialized
//     views (CreateDataflow, as_of the latest since of the tables they
//     read, read policy: ComputeLag behind the upper);
//   - sends peeks of indexes, materialized views and transient dataflows.
//
// Each instance's read holds on tables come back through its StorageHolds
// callback as a message to the environment, which applies them to storage
// as named read holds ("env<epoch>/<cluster>/i<gen>/h<hold>", holds.go),
// in order, so storage never compacts what a dataflow or a peek still
// reads. The environment releases a stopped instance's holds itself, and
// all of them when it stops or restarts.

// storageHolds carries an instance's hold changes to the environment.
type storageHolds struct {
	cluster timely.ClusterId
	// epoch and gen are the instance's (holds.go): they name its holds,
	// and changes of a replaced instance are dropped.
	epoch, gen uint64
	changes    []instance.StorageHoldChange
}

// tableFrontiers are a table's since and upper as storage last reported
// them.
type tableFrontiers struct {
	since, upper timely.Frontier
}

// clusterLauncher is an instance's Launcher: it asks the node's factory
// for each replica's launcher once and keeps it.
type clusterLauncher struct {
	cluster timely.ClusterId
	factory LauncherFactory

	mu  sync.Mutex
	per map[timely.ReplicaId]replica.Launcher
}

func (l *clusterLauncher) Launch(ctx context.Context, id timely.ReplicaId, incarnation uint64) (*actor.PID, error) {
	l.mu.Lock()
	inner, ok := l.per[id]
	if !ok {
		inner = l.factory(l.cluster, id)
		l.per[id] = inner
	}
	l.mu.Unlock()
	if inner == nil {
		return nil, fmt.Errorf("environment: the node has no launcher for replica %s of cluster %s", id, l.cluster)
	}
	return inner.Launch(ctx, id, incarnation)
}

// Releaser is implemented by a replica's launcher that records where the
// replica runs (cluster mode): Release forgets it when the replica is
// dropped, or its cluster's instance stops, so the membership view stops
// showing it.
type Releaser interface {
	Release(replica timely.ReplicaId)
}

// release tells the launcher of a replica, if it records placements, that
// the replica is gone. Called from the environment's turn.
func (l *clusterLauncher) release(id timely.ReplicaId) {
	l.mu.Lock()
	inner := l.per[id]
	delete(l.per, id)
	l.mu.Unlock()
	if r, ok := inner.(Releaser); ok {
		r.Release(id)
	}
}

// releaseAll releases every replica the launcher started.
func (l *clusterLauncher) releaseAll() {
	l.mu.Lock()
	ids := make([]timely.ReplicaId, 0, len(l.per))
	for id := range l.per {
		ids = append(ids, id)
	}
	l.mu.Unlock()
	for _, id := range ids {
		l.release(id)
	}
}

// releaseReplica forgets where a dropped replica of a running cluster ran.
func (a *envActor) releaseReplica(cluster timely.ClusterId, id timely.ReplicaId) {
	if l, ok := a.launchers[cluster]; ok {
		l.release(id)
	}
}

func (a *envActor) computeEnabled() bool { return a.cfg.Launcher != nil }

// spawnInstance starts the instance of cl, registers every table with it
// and adds the cluster's replicas. The instance handles its messages in
// the order sent, so requests sent after this one see all of it.
func (a *envActor) spawnInstance(ctx actor.Context, cl *cluster) error {
	if a.stopping {
		// A stopping actor still handles messages until its children have
		// stopped, but a child spawned now would never be told to stop and
		// the environment would wait for it forever.
		return errorf(messages.ErrUnavailable, "cluster %q: the environment is stopping", cl.name)
	}
	self, root := ctx.Self(), ctx.ActorSystem().Root
	id := cl.id
	a.nextGen++
	epoch, gen := a.epoch, a.nextGen
	launcher := &clusterLauncher{cluster: cl.id, factory: a.cfg.Launcher, per: map[timely.ReplicaId]replica.Launcher{}}
	props, err := instance.New(instance.Config{
		Cluster: cl.id, ClusterName: cl.name, EnvironmentEpoch: a.epoch,
		Launcher: launcher,
		StorageHolds: func(chs []instance.StorageHoldChange) {
			root.Send(self, &storageHolds{cluster: id, epoch: epoch, gen: gen, changes: append([]instance.StorageHoldChange(nil), chs...)})
		},
		Clock: a.cfg.Clock, MaintainInterval: a.cfg.ComputeMaintainInterval,
		// Every instance registers the same collectors: metrics.Register
		// shares them, and each instance's series carry its cluster label.
		Registerer: a.cfg.Registerer,
		Logger:     a.cfg.Logger,
		// Read-only until promotion: its views' sinks append nothing.
		ReadOnly: a.shared.readOnly,
	})
	if err != nil {
		return errorf(ErrInternal, "cluster %q: %v", cl.name, err)
	}
	pid := ctx.Spawn(props)
	a.instances[cl.id] = pid
	a.instanceGens[cl.id] = gen
	if a.launchers == nil {
		a.launchers = map[timely.ClusterId]*clusterLauncher{}
	}
	a.launchers[cl.id] = launcher
	for _, o := range a.core.Objects() {
		if o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE {
			a.registerTable(ctx, pid, o)
		}
	}
	a.registerViewCollections(ctx, pid, cl.id)
	for name, rid := range cl.replicas {
		a.instanceCall(ctx, pid, instance.AddReplica{Id: rid, Name: name}, a.logFailure("add replica", cl.name+"."+name))
	}
	return nil
}

// stopInstance stops a cluster's instance and releases its storage holds.
func (a *envActor) stopInstance(ctx actor.Context, id timely.ClusterId) {
	a.retireInstance(ctx, id, false)
}

// retireInstance stops a cluster's instance. Its storage holds are
// released now, or, when replaced is set (a successor starts at once),
// kept until the successor's dataflows caught up (holds.go).
func (a *envActor) retireInstance(ctx actor.Context, id timely.ClusterId, replaced bool) {
	if pid, ok := a.instances[id]; ok {
		ctx.Stop(pid)
		delete(a.instances, id)
	}
	if l, ok := a.launchers[id]; ok {
		l.releaseAll()
		delete(a.launchers, id)
	}
	for h := range a.holds[id] {
		if replaced {
			a.retired = append(a.retired, h)
			continue
		}
		ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: h})
	}
	if replaced {
		a.dueSweep()
	}
	delete(a.holds, id)
	delete(a.instanceGens, id)
	delete(a.unregisters, id)
	for oid := range a.installed {
		if o, ok := a.core.byId[oid]; !ok || o.cluster == id {
			delete(a.installed, oid)
		}
	}
}

// registerTable makes a table known to an instance with the frontiers
// last seen.
func (a *envActor) registerTable(ctx actor.Context, pid *actor.PID, o *object) {
	f, ok := a.frontiers[o.id]
	if !ok {
		f = tableFrontiers{since: timely.At(0), upper: timely.At(0)}
	}
	a.instanceCall(ctx, pid, instance.RegisterStorage{Collection: instance.StorageCollection{
		Id: o.id, Schema: toWireSchema(o), Since: f.since, Upper: f.upper}}, a.logFailure("register table", o.name))
}

// instanceCall sends a request to an instance and gives its outcome to
// cont in the actor's turn.
func (a *envActor) instanceCall(ctx actor.Context, pid *actor.PID, msg any, cont func(error)) {
	a.request(ctx, pid, msg, func(res any, err error) {
		if err == nil {
			if r, ok := res.(instance.Reply); ok {
				err = r.Error()
			} else {
				err = errorf(ErrInternal, "the instance answered %T", res)
			}
		}
		cont(err)
	})
}

func (a *envActor) logFailure(what, name string) func(error) {
	return func(err error) {
		if err != nil {
			a.cfg.Logger.Warn("compute: "+what+" failed", "object", name, "error", err)
		}
	}
}

// asOfFor is the as_of of a dataflow reading storage collections (tables
// and materialized views' collections): the latest of their sinces, the
// earliest time every one of them can still be read at.
func (a *envActor) asOfFor(tables []timely.GlobalId) timely.Timestamp {
	var asOf timely.Timestamp
	for _, t := range tables {
		if f, ok := a.frontiers[t]; ok {
			if s, ok := f.since.Time(); ok && s > asOf {
				asOf = s
			}
		}
	}
	return asOf
}

// install creates the dataflow of an index or a materialized view on its
// cluster's instance.
func (a *envActor) install(ctx actor.Context, o *object, cont func(error)) {
	// Peeks of o wait until this ends (install_wait.go).
	cont = a.trackInstall(o, cont)
	pid, ok := a.instances[o.cluster]
	if !ok {
		cont(errorf(messages.ErrUnavailable, "%s %q: its cluster %s has no running instance", typeName(o.typ), o.name, o.cluster))
		return
	}
	_, sources, err := a.core.describe(o, 0)
	if err != nil {
		cont(err)
		return
	}
	policy := instance.LagWriteFrontier(timely.Timestamp(a.cfg.ComputeLag))
	create := func() {
		// Materialized views of the same cluster are held first, so that
		// the as_of is not before their since (mv_import.go).
		local := a.localViews(o.cluster, sources)
		a.holdLocalViews(ctx, pid, local, func(since timely.Timestamp, release func(), err error) {
			if err != nil {
				cont(fmt.Errorf("%s %q: %w", typeName(o.typ), o.name, err))
				return
			}
			// ...and so are their collections in storage, until the
			// reader's runtime holds them itself (import_hold.go).
			a.holdViewCollections(ctx, o.id, o.cluster, local, max(a.asOfFor(sources), since), func(asOf timely.Timestamp, keep func(bool), err error) {
				if err != nil {
					release()
					cont(fmt.Errorf("%s %q: %w", typeName(o.typ), o.name, err))
					return
				}
				desc, _, err := a.core.describe(o, asOf)
				if err != nil {
					release()
					keep(false)
					cont(err)
					return
				}
				a.instanceCall(ctx, pid, instance.CreateDataflow{Dataflow: desc, ReadPolicy: &policy}, func(err error) {
					release()
					keep(err == nil)
					if err == nil {
						a.installed[o.id] = true
					}
					cont(err)
				})
			})
		})
	}
	if o.typ != messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW {
		create()
		return
	}
	// A materialized view's output lives in a storage collection of the
	// same id, which its replicas append to: create it first (it survives
	// restarts, so ALREADY_EXISTS means it is there).
	a.request(ctx, a.cfg.Storage, &messages.StorageCreateCollection{
		Collection: messages.FromGlobalId(o.id), Schema: dataflow.SchemaToWire(o.schema),
	}, func(res any, err error) {
		if err == nil {
			if r, ok := res.(*messages.StorageCreateCollectionResponse); !ok {
				err = errorf(ErrInternal, "create collection %s: unexpected answer %T", o.id, res)
			} else if e := storageError(r.GetError()); e != nil && !errors.Is(e, messages.ErrAlreadyExists) {
				err = fmt.Errorf("materialized view %q: create its storage collection: %w", o.name, e)
			}
		}
		if err != nil {
			cont(err)
			return
		}
		create()
	})
}

// pollFrontiers asks storage for every table's and collection's frontiers
// (one poll at a time) and reports them to the instances.
func (a *envActor) pollFrontiers(ctx actor.Context) {
	if a.polling || len(a.instances) == 0 {
		return
	}
	a.polling = true
	a.request(ctx, a.cfg.Storage, &messages.StorageFrontiers{Collections: true}, func(res any, err error) {
		a.polling = false
		r, ok := res.(*messages.StorageFrontiersResponse)
		if err != nil || !ok || r.GetError() != nil {
			return // the next tick polls again
		}
		a.applyFrontiers(ctx, r.GetTables())
	})
}

// applyFrontiers records tables' and collections' frontiers and reports
// those that moved to every instance that knows them as storage.
func (a *envActor) applyFrontiers(ctx actor.Context, tables []*messages.StorageTableFrontiers) {
	for _, t := range tables {
		id, err := t.GetTable().ToTimely()
		if err != nil {
			continue
		}
		since, err1 := t.GetSince().ToTimely()
		upper, err2 := t.GetUpper().ToTimely()
		if err1 != nil || err2 != nil {
			continue
		}
		old, seen := a.frontiers[id]
		// Never report a regression (an answer overtaken by a newer one).
		if seen {
			since, upper = since.Join(old.since), upper.Join(old.upper)
			if since == old.since && upper == old.upper {
				continue
			}
		}
		a.frontiers[id] = tableFrontiers{since: since, upper: upper}
		if o, ok := a.core.byId[id]; !ok || (!seen && !isMaterializedView(o)) {
			continue // a table is registered with these frontiers when it is created
		}
		for _, pid := range a.frontierTargets(id) {
			ctx.Send(pid, instance.UpdateStorageFrontiers{Id: id, Since: since, Upper: upper})
		}
	}
}

// handleStorageHolds applies an instance's read-hold changes on tables to
// storage, in order, as one StorageChangeReadHolds: storage compacts once
// per step instead of once per change.
func (a *envActor) handleStorageHolds(ctx actor.Context, m *storageHolds) {
	if gen, ok := a.instanceGens[m.cluster]; !ok || gen != m.gen {
		return // a stopped instance's; its holds were released
	}
	held := a.holds[m.cluster]
	if held == nil {
		held = map[string]bool{}
		a.holds[m.cluster] = held
	}
	batch := &messages.StorageChangeReadHolds{}
	for _, c := range m.changes {
		h := instanceHoldId(m.epoch, m.cluster, m.gen, uint64(c.Hold))
		t, ok := c.Frontier.Time()
		var ch messages.StorageReadHoldChange
		switch {
		case c.Op == instance.HoldRelease || (c.Op == instance.HoldDowngrade && !ok):
			if !held[h] {
				continue
			}
			delete(held, h)
			ch.Change = &messages.StorageReadHoldChange_Release{Release: &messages.StorageReleaseReadHold{HoldId: h}}
		case c.Op == instance.HoldAcquire && ok:
			held[h] = true
			// at_least: when storage compacted past t meanwhile (the
			// frontiers the instance was told are a poll old), hold at
			// the since rather than not at all; a later downgrade behind
			// it is refused and the hold stays where storage put it.
			ch.Change = &messages.StorageReadHoldChange_Acquire{Acquire: &messages.StorageAcquireReadHold{HoldId: h,
				Tables: []*messages.GlobalId{messages.FromGlobalId(c.Collection)}, At: uint64(t), AtLeast: true}}
		case c.Op == instance.HoldDowngrade && held[h]:
			ch.Change = &messages.StorageReadHoldChange_Downgrade{Downgrade: &messages.StorageDowngradeReadHold{HoldId: h, At: uint64(t)}}
		default:
			continue
		}
		batch.Changes = append(batch.Changes, &ch)
	}
	if len(batch.Changes) > 0 {
		// From the actor, not a future: storage gives the holds to the
		// sender, and releases them when it terminates.
		ctx.Request(a.cfg.Storage, batch)
	}
}

// handleChangeHoldsResponse logs what storage refused of a batch of an
// instance's hold changes.
func (a *envActor) handleChangeHoldsResponse(ctx actor.Context, m *messages.StorageChangeReadHoldsResponse) {
	if m.GetError() != nil {
		a.cfg.Logger.Debug("storage refused a batch of compute read-hold changes", "error", messages.ErrorFromWire(m.GetError()))
	}
	for _, r := range m.GetResults() {
		a.handleReadHoldResponse(ctx, r)
	}
}

// handleReadHoldResponse logs storage's refusal of a read-hold change: the
// hold was at or behind storage's since already (compaction raced the
// dataflow's creation), or is unknown after storage restarted.
func (a *envActor) handleReadHoldResponse(ctx actor.Context, m *messages.StorageReadHoldResponse) {
	if a.bridgeAnswered(m) {
		return
	}
	if cont, ok := a.holdWaiters[m.GetHoldId()]; ok {
		delete(a.holdWaiters, m.GetHoldId())
		cont(storageError(m.GetError()))
		return
	}
	if m.GetError() != nil {
		a.cfg.Logger.Debug("storage refused a compute read-hold change", "hold", m.GetHoldId(), "error", messages.ErrorFromWire(m.GetError()))
	}
}

// startCompute brings compute in line with the catalog at the end of a
// bootstrap: an instance for every cluster (tables registered, replicas
// added), the dataflow of every index and materialized view not yet
// installed; the instances of clusters the catalog no longer holds stop.
func (a *envActor) startCompute(ctx actor.Context, done func()) {
	if !a.computeEnabled() {
		done()
		return
	}
	a.dueSweep() // holds.go
	a.request(ctx, a.cfg.Storage, &messages.StorageFrontiers{Collections: true}, func(res any, err error) {
		if r, ok := res.(*messages.StorageFrontiersResponse); ok && err == nil && r.GetError() == nil {
			a.applyFrontiers(ctx, r.GetTables())
		}
		for id := range a.instances {
			if _, ok := a.core.clusterById[id]; !ok {
				a.stopInstance(ctx, id)
			}
		}
		for _, cl := range a.core.Clusters() {
			if _, ok := a.instances[cl.id]; ok {
				continue
			}
			if err := a.spawnInstance(ctx, cl); err != nil {
				a.cfg.Logger.Error("bootstrap: cannot start a cluster's instance", "cluster", cl.name, "error", err)
			}
		}
		for _, cl := range a.core.Clusters() {
			var todo []*object
			for _, o := range a.core.OnCluster(cl.id) {
				if _, running := a.instances[cl.id]; running && !a.installed[o.id] {
					todo = append(todo, o)
				}
			}
			a.installAll(ctx, todo)
		}
		done()
	})
}

// instanceTerminated handles the end of an instance the environment did
// not stop (it failed): the peeks and subscribes it served end
// UNAVAILABLE, its storage holds are released, and a new instance of the
// cluster starts with its replicas and dataflows. It reports whether pid
// was an instance.
func (a *envActor) instanceTerminated(ctx actor.Context, pid *actor.PID) bool {
	var id timely.ClusterId
	found := false
	for cid, p := range a.instances {
		if p.Equal(pid) {
			id, found = cid, true
			break
		}
	}
	if !found {
		return false
	}
	if a.stopping {
		return true
	}
	cl := a.core.clusterById[id]
	a.cfg.Logger.Warn("compute: a cluster's instance stopped; starting a new one", "cluster", id)
	a.retireInstance(ctx, id, cl != nil)
	for _, p := range a.core.AllPeeks() {
		if p.inst != nil && p.inst.Equal(pid) {
			a.answerPeek(ctx, p, nil, errorf(messages.ErrUnavailable, "peek %q: its cluster's controller failed; retry", p.name))
		} else {
			a.core.BeginPeek(p)
		}
	}
	for _, sub := range a.sortedSubscriptions() {
		if sub.inst.Equal(pid) && !sub.ended {
			sub.ended = true // its dataflow went with the instance
			delete(a.bySink, sub.sink)
			a.endSubscription(ctx, sub, errorf(messages.ErrUnavailable, "subscribe %q: its cluster's controller failed; subscribe again", sub.name))
		}
	}
	if cl == nil {
		return true
	}
	if err := a.spawnInstance(ctx, cl); err != nil {
		a.cfg.Logger.Error("compute: cannot start a cluster's instance", "cluster", cl.name, "error", err)
		return true
	}
	a.installAll(ctx, a.core.OnCluster(cl.id))
	return true
}
