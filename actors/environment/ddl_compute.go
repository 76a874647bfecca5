package environment

import (
	"errors"
	"fmt"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Allocators of cluster and replica ids.
const (
	ClusterIdAllocator = "cluster"
	ReplicaIdAllocator = "replica"
)

// DDL of compute objects follows the table's order: validate, then the
// catalog (ids, unique names, dependencies, the audit log), then the
// implication on the cluster's instance:
//
//	create cluster  -> spawn its instance (tables registered, replicas added)
//	create replica  -> AddReplica
//	create view     -> nothing (a view is computed where it is read)
//	create index    -> CreateDataflow (index export)
//	create mat view -> CreateDataflow (materialized-view sink)
//
// An index or materialized view whose dataflow the instance refuses is
// dropped from the catalog again and the create fails with the
// instance's error: nothing is half-applied.

func (a *envActor) handleCreateCompute(ctx actor.Context, m proto.Message, sender *actor.PID) {
	kind := kindOf(m)
	fail := func(err error) {
		a.fail(ctx, m, sender, err)
		a.ddlDone(ctx)
	}
	if c, ok := m.(interface{ GetConn() *messages.ConnectionId }); ok {
		if _, err := a.session(c.GetConn()); err != nil {
			fail(err)
			return
		}
	}
	ok := func(w *messages.ClientObject) {
		a.reply(ctx, sender, kind, &messages.ClientCreateResponse{Object: w}, nil)
		a.ddlDone(ctx)
	}
	switch m := m.(type) {
	case *messages.ClientCreateCluster:
		a.createCluster(ctx, m, ok, fail)
	case *messages.ClientCreateReplica:
		a.createReplica(ctx, m, ok, fail)
	case *messages.ClientCreateView:
		a.createItem(ctx, kind, m.GetName(), messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW, m.GetPlan(), "", nil, "", ok, fail)
	case *messages.ClientCreateMaterializedView:
		a.createItem(ctx, kind, m.GetName(), messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW, m.GetPlan(), "", nil, m.GetCluster(), ok, fail)
	case *messages.ClientCreateIndex:
		a.createItem(ctx, kind, m.GetName(), messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX, nil, m.GetOn(), m.GetKeyColumns(), m.GetCluster(), ok, fail)
	}
}

func clusterToWire(cl *cluster) *messages.ClientObject {
	return &messages.ClientObject{Name: cl.name, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_CLUSTER, Id: cl.id.String()}
}

func replicaToWire(cl *cluster, name string) *messages.ClientObject {
	return &messages.ClientObject{Name: name, Type: messages.ClientObjectType_CLIENT_OBJECT_TYPE_REPLICA, Cluster: cl.name, Id: cl.replicas[name].String()}
}

func validName(what, name string) error {
	if strings.TrimSpace(name) == "" {
		return errorf(ErrInvalidRequest, "%s: a name is required", what)
	}
	if strings.Contains(name, ".") && (what == "create cluster" || what == "create replica") {
		return errorf(ErrInvalidRequest, "%s %q: the name may not contain '.' (a replica is named cluster.replica)", what, name)
	}
	return nil
}

func (a *envActor) createCluster(ctx actor.Context, m *messages.ClientCreateCluster, ok func(*messages.ClientObject), fail func(error)) {
	name := m.GetName()
	if err := validName("create cluster", name); err != nil {
		fail(err)
		return
	}
	if _, exists := a.core.clusters[name]; exists {
		fail(errorf(ErrObjectExists, "create cluster %q: a cluster of that name exists", name))
		return
	}
	seen := map[string]bool{}
	for _, r := range m.GetReplicas() {
		if err := validName("create replica", r.GetName()); err != nil {
			fail(fmt.Errorf("create cluster %q: %w", name, err))
			return
		}
		if seen[r.GetName()] {
			fail(errorf(ErrInvalidRequest, "create cluster %q: replica %q appears twice", name, r.GetName()))
			return
		}
		seen[r.GetName()] = true
	}
	a.transactCluster(ctx, name, m.GetReplicas(), func(cl *cluster, err error) {
		if err != nil {
			fail(fmt.Errorf("create cluster %q: %w", name, err))
			return
		}
		if err := a.spawnInstance(ctx, cl); err != nil {
			// The catalog holds the cluster: the next bootstrap retries.
			a.cfg.Logger.Error("create cluster: the instance did not start", "cluster", name, "error", err)
		}
		ok(clusterToWire(cl))
	})
}

// transactCluster creates a cluster with replicas in the catalog and
// records it in the core.
func (a *envActor) transactCluster(ctx actor.Context, name string, replicas []*messages.ClientReplicaSpec, done func(*cluster, error)) {
	var cl *cluster
	apply := func(tx *durable.Transaction) error {
		first, err := tx.AllocateIds(ClusterIdAllocator, 1)
		if err != nil {
			return err
		}
		cl = &cluster{id: timely.ClusterId{Kind: timely.User, Value: first}, name: name, replicas: map[string]timely.ReplicaId{}}
		if err := tx.CreateCluster(&messages.CatalogCluster{Id: messages.FromClusterId(cl.id), Name: name}); err != nil {
			return err
		}
		for _, r := range replicas {
			n, err := tx.AllocateIds(ReplicaIdAllocator, 1)
			if err != nil {
				return err
			}
			rid := timely.ReplicaId{Kind: timely.User, Value: n}
			if err := tx.CreateReplica(&messages.CatalogReplica{Id: messages.FromReplicaId(rid), ClusterId: messages.FromClusterId(cl.id), Name: r.GetName(), Size: r.GetSize()}); err != nil {
				return err
			}
			cl.replicas[r.GetName()] = rid
		}
		return nil
	}
	a.transact(ctx, apply, func(err error) {
		if err != nil {
			done(nil, err)
			return
		}
		a.core.AddCluster(cl)
		done(cl, nil)
	})
}

func (a *envActor) createReplica(ctx actor.Context, m *messages.ClientCreateReplica, ok func(*messages.ClientObject), fail func(error)) {
	name := m.GetReplica().GetName()
	if err := validName("create replica", name); err != nil {
		fail(err)
		return
	}
	cl, err := a.core.ResolveCluster(m.GetCluster())
	if err != nil {
		fail(fmt.Errorf("create replica %q: %w", name, err))
		return
	}
	if _, exists := cl.replicas[name]; exists {
		fail(errorf(ErrObjectExists, "create replica %q: cluster %q has a replica of that name", name, cl.name))
		return
	}
	var rid timely.ReplicaId
	apply := func(tx *durable.Transaction) error {
		n, err := tx.AllocateIds(ReplicaIdAllocator, 1)
		if err != nil {
			return err
		}
		rid = timely.ReplicaId{Kind: timely.User, Value: n}
		return tx.CreateReplica(&messages.CatalogReplica{Id: messages.FromReplicaId(rid), ClusterId: messages.FromClusterId(cl.id), Name: name, Size: m.GetReplica().GetSize()})
	}
	a.transact(ctx, apply, func(err error) {
		if err != nil {
			fail(fmt.Errorf("create replica %s.%s: %w", cl.name, name, err))
			return
		}
		cl.replicas[name] = rid
		if pid, running := a.instances[cl.id]; running {
			a.instanceCall(ctx, pid, instance.AddReplica{Id: rid, Name: name}, a.logFailure("add replica", cl.name+"."+name))
		}
		ok(replicaToWire(cl, name))
	})
}

// createItem creates a view (plan), a materialized view (plan, cluster)
// or an index (on, keys, cluster).
func (a *envActor) createItem(ctx actor.Context, kind, name string, typ messages.CatalogItemType, plan *messages.ClientPlan, on string, keys []string, clusterName string,
	ok func(*messages.ClientObject), fail func(error)) {
	what := fmt.Sprintf("%s %q", kind, name)
	if err := validName(kind, name); err != nil {
		fail(err)
		return
	}
	if existing, exists := a.core.objects[name]; exists {
		fail(errorf(ErrObjectExists, "%s: a %s of that name exists", what, typeName(existing.typ)))
		return
	}
	o := &object{name: name, typ: typ}
	var def proto.Message
	switch typ {
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW, messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW:
		bound, deps, compiled, err := a.core.bindPlan(what, plan)
		if err != nil {
			fail(err)
			return
		}
		o.plan, o.dependsOn, o.compiled, o.schema = bound, deps, compiled, compiled.Schema()
		def = &messages.ClientPlan{Plan: bound}
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX:
		target, err := a.core.Resolve(on)
		if err != nil {
			fail(fmt.Errorf("%s: %w", what, err))
			return
		}
		if target.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX {
			fail(errorf(ErrInvalidRequest, "%s: %q is an index; index the object it indexes", what, on))
			return
		}
		if o.keys, o.keyIdx, err = keyColumns(keys, target); err != nil {
			fail(fmt.Errorf("%s: %w", what, err))
			return
		}
		o.on, o.schema, o.dependsOn = target.id, target.schema, []timely.GlobalId{target.id}
		def = &messages.ClientTableDefinition{KeyColumns: o.keys}
	}
	var cl *cluster
	if computed(typ) {
		if clusterName == "" {
			clusterName = DefaultClusterName
		}
		var err error
		if cl, err = a.core.ResolveCluster(clusterName); err != nil {
			fail(fmt.Errorf("%s: %w", what, err))
			return
		}
		o.cluster = cl.id
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(def)
	if err != nil {
		fail(errorf(ErrInternal, "%s: encode definition: %v", what, err))
		return
	}
	item := &messages.CatalogItem{Name: name, Type: typ, Definition: b}
	for _, d := range o.dependsOn {
		item.DependsOn = append(item.DependsOn, messages.FromGlobalId(d))
	}
	if cl != nil {
		item.ClusterId = messages.FromClusterId(cl.id)
	}
	apply := func(tx *durable.Transaction) error {
		first, err := tx.AllocateIds(IdAllocator, 1)
		if err != nil {
			return err
		}
		o.id = timely.UserId(first)
		item.Id = messages.FromGlobalId(o.id)
		return tx.CreateItem(item)
	}
	a.transact(ctx, apply, func(err error) {
		if err != nil {
			fail(fmt.Errorf("%s: %w", what, err))
			return
		}
		a.core.AddObject(o)
		if !computed(typ) {
			ok(o.toWire(a.core))
			return
		}
		a.install(ctx, o, func(err error) {
			if err != nil {
				a.core.RemoveObject(o.id)
				a.rollbackCreate(ctx, o, fmt.Errorf("%s: cluster %q: %w", what, cl.name, err), fail)
				return
			}
			if isMaterializedView(o) {
				// Other clusters read its collection (mv_import.go).
				a.registerViewCollection(ctx, o, func() { ok(o.toWire(a.core)) })
				return
			}
			ok(o.toWire(a.core))
		})
	})
}

// dropCompute drops a view, index, materialized view, cluster or replica
// (tables: handleDrop). It refuses to drop what others depend on, naming
// them.
func (a *envActor) dropCompute(ctx actor.Context, typ messages.ClientObjectType, name string, ifExists bool, ok func(bool), fail func(error)) {
	noun := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(typ.String(), "CLIENT_OBJECT_TYPE_"), "_", " "))
	what := fmt.Sprintf("drop %s %q", noun, name)
	notFound := func(err error) {
		if ifExists {
			ok(false)
			return
		}
		fail(fmt.Errorf("%s: %w", what, err))
	}
	switch typ {
	case messages.ClientObjectType_CLIENT_OBJECT_TYPE_CLUSTER:
		cl, err := a.core.ResolveCluster(name)
		if err != nil {
			notFound(err)
			return
		}
		if objs := a.core.OnCluster(cl.id); len(objs) > 0 {
			fail(errorf(ErrInvalidRequest, "%s: %s %q is computed on it; drop it first", what, typeName(objs[0].typ), objs[0].name))
			return
		}
		a.transact(ctx, func(tx *durable.Transaction) error { return tx.DropCluster(cl.id) }, func(err error) {
			if err != nil {
				fail(fmt.Errorf("%s: %w", what, err))
				return
			}
			a.core.RemoveCluster(cl.id)
			a.cfg.Tracker.Send(querytracker.CancelByDrop{Clusters: map[timely.ClusterId]string{cl.id: fmt.Sprintf("cluster %q", cl.name)}})
			a.stopInstance(ctx, cl.id)
			ok(true)
		})
	case messages.ClientObjectType_CLIENT_OBJECT_TYPE_REPLICA:
		clName, rName, found := strings.Cut(name, ".")
		if !found {
			fail(errorf(ErrInvalidRequest, "%s: name a replica as cluster.replica", what))
			return
		}
		cl, err := a.core.ResolveCluster(clName)
		if err != nil {
			notFound(err)
			return
		}
		rid, exists := cl.replicas[rName]
		if !exists {
			notFound(errorf(ErrUnknownObject, "cluster %q has no replica %q", clName, rName))
			return
		}
		a.transact(ctx, func(tx *durable.Transaction) error { return tx.DropReplica(rid) }, func(err error) {
			if err != nil {
				fail(fmt.Errorf("%s: %w", what, err))
				return
			}
			delete(cl.replicas, rName)
			if pid, running := a.instances[cl.id]; running {
				a.instanceCall(ctx, pid, instance.RemoveReplica{Id: rid}, a.logFailure("remove replica", name))
			}
			a.releaseReplica(cl.id, rid) // compute.go
			ok(true)
		})
	default:
		o, exists := a.core.objects[name]
		if !exists {
			notFound(errorf(ErrUnknownObject, "it does not exist"))
			return
		}
		if objectType(o.typ) != typ {
			fail(errorf(ErrInvalidRequest, "%s: it is a %s", what, typeName(o.typ)))
			return
		}
		if deps := a.core.Dependents(o.id); len(deps) > 0 {
			fail(errorf(ErrInvalidRequest, "%s: %s %q depends on it; drop that first", what, typeName(deps[0].typ), deps[0].name))
			return
		}
		a.transact(ctx, func(tx *durable.Transaction) error { return tx.DropItem(o.id) }, func(err error) {
			if err != nil {
				fail(fmt.Errorf("%s: %w", what, err))
				return
			}
			a.core.RemoveObject(o.id)
			a.dropped(ctx, o)
			ok(true)
		})
	}
}

// dropped carries out a committed drop of a view, index or materialized
// view: the peeks reading it end canceled with its name, and its dataflow
// is dropped.
func (a *envActor) dropped(ctx actor.Context, o *object) {
	a.cancelByDrop(ctx, o)
	if !computed(o.typ) {
		return
	}
	delete(a.installed, o.id)
	if pid, running := a.instances[o.cluster]; running {
		a.instanceCall(ctx, pid, instance.DropCollections{Ids: []timely.GlobalId{o.id}}, a.logFailure("drop dataflow", o.name))
	}
	if o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW {
		a.unregisterViewCollection(ctx, o)
		// Its storage collection goes with it (after the dataflow, so no
		// replica appends to a dropped collection on purpose; a late append
		// is refused as DROPPED).
		a.request(ctx, a.cfg.Storage, &messages.StorageDropTable{Table: messages.FromGlobalId(o.id)}, func(res any, err error) {
			if err == nil {
				if r, ok := res.(*messages.StorageDropTableResponse); ok {
					err = storageError(r.GetError())
				}
			}
			if err != nil && !errors.Is(err, messages.ErrNotFound) {
				a.logFailure("drop storage collection", o.name)(err)
			}
		})
	}
}
