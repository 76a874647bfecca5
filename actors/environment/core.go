package environment

import (
	"encoding/binary"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// object is a catalog item as the environment serves it: the catalog is
// the truth, this is its decoded copy, updated after every commit the
// environment makes (it is the catalog's only writer).
type object struct {
	id     timely.GlobalId
	name   string
	typ    messages.CatalogItemType
	schema dataflow.Schema
	// keys are a table's or an index's key columns.
	keys []string
	// appendOnly: a table that only gains rows (ClientCreateTable.
	// append_only). Writes may not delete or update its rows, and every
	// Get of it is lowered with GetPlan.append_only (plans.go).
	appendOnly bool
	// dependsOn are the items it reads (a view's and a materialized
	// view's sources, an index's object), as the catalog records them.
	dependsOn []timely.GlobalId
	// cluster computes an index or a materialized view.
	cluster timely.ClusterId
	// plan is a view's or materialized view's plan with catalog ids in
	// its Get nodes; compiled is it type checked.
	plan     *messages.Plan
	compiled *dataflow.Plan
	// on is the object an index arranges; keyIdx its key columns by
	// position.
	on     timely.GlobalId
	keyIdx []uint32
}

// cluster is a catalog cluster and its replicas by name.
type cluster struct {
	id       timely.ClusterId
	name     string
	replicas map[string]timely.ReplicaId
}

// session is one client connection.
type session struct {
	conn    timely.ConnectionId
	client  *actor.PID
	app     string
	timeout time.Duration
	// peeks are the session's pending peeks.
	peeks map[timely.Uuid]bool
}

// pendingPeek is a peek sent to storage and not yet answered.
type pendingPeek struct {
	uuid     timely.Uuid
	conn     timely.ConnectionId
	replyTo  *actor.PID
	table    timely.GlobalId
	name     string
	deadline time.Time
	// Compiled from the request; applied to the snapshot.
	schema    dataflow.Schema
	mfp       *dataflow.MapFilterProject
	finishing *dataflow.Finishing
	asOf      *uint64
	// A compute peek: the instance it was sent to, the time it reads, and
	// its transient dataflow (nil for an index or materialized view).
	inst      *actor.PID
	at        timely.Timestamp
	transient *timely.GlobalId
	// storageHold is the storage read hold a transient dataflow's peek
	// takes on its tables at its time ("" when none).
	storageHold string
}

// Core is the environment's state without its I/O: sessions, the catalog's
// objects by name and id, and pending peeks with their deadlines. Its
// methods do no I/O and read no clock; the actor passes the time in.
type Core struct {
	sessions map[timely.ConnectionId]*session
	byClient map[string]timely.ConnectionId
	nextConn timely.ConnectionId

	objects map[string]*object
	byId    map[timely.GlobalId]*object

	clusters    map[string]*cluster
	clusterById map[timely.ClusterId]*cluster

	peeks  map[timely.Uuid]*pendingPeek
	uuidHi uint64
	uuidLo uint64

	// lastWrite is the highest write timestamp acknowledged to a client.
	lastWrite uint64
}

// NewCore returns an empty core. seed makes this incarnation's peek uuids
// distinct from an earlier one's (the actor passes its start time).
func NewCore(seed uint64) *Core {
	return &Core{
		sessions:    map[timely.ConnectionId]*session{},
		byClient:    map[string]timely.ConnectionId{},
		objects:     map[string]*object{},
		byId:        map[timely.GlobalId]*object{},
		clusters:    map[string]*cluster{},
		clusterById: map[timely.ClusterId]*cluster{},
		peeks:       map[timely.Uuid]*pendingPeek{},
		uuidHi:      seed | 1, // never the zero uuid
	}
}

func pidKey(p *actor.PID) string { return p.GetAddress() + "/" + p.GetId() }

// Connect opens a session for client. A client actor that connects again
// gets its existing session back.
func (c *Core) Connect(client *actor.PID, app string, timeout time.Duration) *session {
	if conn, ok := c.byClient[pidKey(client)]; ok {
		s := c.sessions[conn]
		s.timeout = timeout
		return s
	}
	c.nextConn++
	s := &session{conn: c.nextConn, client: client, app: app, timeout: timeout, peeks: map[timely.Uuid]bool{}}
	c.sessions[s.conn] = s
	c.byClient[pidKey(client)] = s.conn
	return s
}

// Session returns the session of conn.
func (c *Core) Session(conn timely.ConnectionId) (*session, error) {
	s, ok := c.sessions[conn]
	if !ok {
		return nil, errorf(ErrUnknownSession, "connection %d (connect first, or the session ended)", conn)
	}
	return s, nil
}

// SessionOfClient returns the session whose client actor is pid.
func (c *Core) SessionOfClient(pid *actor.PID) (*session, bool) {
	conn, ok := c.byClient[pidKey(pid)]
	if !ok {
		return nil, false
	}
	return c.sessions[conn], true
}

// EndSession forgets a session and returns its pending peeks, which the
// caller cancels. Ending an unknown session returns nothing.
func (c *Core) EndSession(conn timely.ConnectionId) []*pendingPeek {
	s, ok := c.sessions[conn]
	if !ok {
		return nil
	}
	delete(c.sessions, conn)
	delete(c.byClient, pidKey(s.client))
	return c.CancelSession(conn)
}

// CancelSession removes every pending peek of conn and returns them.
func (c *Core) CancelSession(conn timely.ConnectionId) []*pendingPeek {
	var out []*pendingPeek
	for u, p := range c.peeks {
		if p.conn == conn {
			out = append(out, p)
			c.removePeek(u)
		}
	}
	sortPeeks(out)
	return out
}

// Resolve returns the object named name.
func (c *Core) Resolve(name string) (*object, error) {
	o, ok := c.objects[name]
	if !ok {
		return nil, errorf(ErrUnknownObject, "%q does not exist", name)
	}
	return o, nil
}

// Objects returns every object, ordered by name.
func (c *Core) Objects() []*object {
	out := make([]*object, 0, len(c.objects))
	for _, o := range c.objects {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// AddObject records an object the catalog committed.
func (c *Core) AddObject(o *object) {
	c.objects[o.name] = o
	c.byId[o.id] = o
}

// RemoveObject forgets an object the catalog dropped.
func (c *Core) RemoveObject(id timely.GlobalId) {
	if o, ok := c.byId[id]; ok {
		delete(c.byId, id)
		delete(c.objects, o.name)
	}
}

// AddCluster records a cluster the catalog committed.
func (c *Core) AddCluster(cl *cluster) {
	c.clusters[cl.name] = cl
	c.clusterById[cl.id] = cl
}

// RemoveCluster forgets a cluster the catalog dropped.
func (c *Core) RemoveCluster(id timely.ClusterId) {
	if cl, ok := c.clusterById[id]; ok {
		delete(c.clusterById, id)
		delete(c.clusters, cl.name)
	}
}

// Clusters returns every cluster, ordered by name.
func (c *Core) Clusters() []*cluster {
	out := make([]*cluster, 0, len(c.clusters))
	for _, cl := range c.clusters {
		out = append(out, cl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// ResolveCluster returns the cluster named name.
func (c *Core) ResolveCluster(name string) (*cluster, error) {
	cl, ok := c.clusters[name]
	if !ok {
		return nil, errorf(ErrUnknownObject, "cluster %q does not exist", name)
	}
	return cl, nil
}

// Dependents returns the objects that read id, ordered by name.
func (c *Core) Dependents(id timely.GlobalId) []*object {
	var out []*object
	for _, o := range c.Objects() {
		for _, d := range o.dependsOn {
			if d == id {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// IndexOn returns an index arranging id (the one with the smallest id),
// or nil.
func (c *Core) IndexOn(id timely.GlobalId) *object {
	var best *object
	for _, o := range c.byId {
		if o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX && o.on == id && (best == nil || o.id.Compare(best.id) < 0) {
			best = o
		}
	}
	return best
}

// OnCluster returns the indexes and materialized views computed on
// cluster, ordered by id (so an object comes after what it reads).
func (c *Core) OnCluster(id timely.ClusterId) []*object {
	var out []*object
	for _, o := range c.byId {
		if computed(o.typ) && o.cluster == id {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id.Compare(out[j].id) < 0 })
	return out
}

// computed reports whether items of type t are dataflows on a cluster.
func computed(t messages.CatalogItemType) bool {
	return t == messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX || t == messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW
}

// NewUuid returns a fresh peek uuid.
func (c *Core) NewUuid() timely.Uuid {
	c.uuidLo++
	var u timely.Uuid
	binary.BigEndian.PutUint64(u[:8], c.uuidHi)
	binary.BigEndian.PutUint64(u[8:], c.uuidLo)
	return u
}

// BeginPeek records a pending peek of its session.
func (c *Core) BeginPeek(p *pendingPeek) {
	c.peeks[p.uuid] = p
	if s, ok := c.sessions[p.conn]; ok {
		s.peeks[p.uuid] = true
	}
}

// FinishPeek removes a pending peek and returns it; false when it was
// already answered (canceled, timed out).
func (c *Core) FinishPeek(u timely.Uuid) (*pendingPeek, bool) {
	p, ok := c.peeks[u]
	if ok {
		c.removePeek(u)
	}
	return p, ok
}

func (c *Core) removePeek(u timely.Uuid) {
	p := c.peeks[u]
	delete(c.peeks, u)
	if s, ok := c.sessions[p.conn]; ok {
		delete(s.peeks, u)
	}
}

// AllPeeks removes and returns every pending peek.
func (c *Core) AllPeeks() []*pendingPeek {
	var out []*pendingPeek
	for u, p := range c.peeks {
		out = append(out, p)
		c.removePeek(u)
	}
	sortPeeks(out)
	return out
}

// Expired removes and returns the pending peeks whose deadline is at or
// before now.
func (c *Core) Expired(now time.Time) []*pendingPeek {
	var out []*pendingPeek
	for u, p := range c.peeks {
		if !p.deadline.After(now) {
			out = append(out, p)
			c.removePeek(u)
		}
	}
	sortPeeks(out)
	return out
}

// ObserveWrite records an acknowledged write's timestamp.
func (c *Core) ObserveWrite(ts uint64) { c.lastWrite = max(c.lastWrite, ts) }

// LastWrite is the highest acknowledged write timestamp.
func (c *Core) LastWrite() uint64 { return c.lastWrite }

// Pending is the number of pending peeks.
func (c *Core) Pending() int { return len(c.peeks) }

func sortPeeks(ps []*pendingPeek) {
	sort.Slice(ps, func(i, j int) bool {
		return string(ps[i].uuid[:]) < string(ps[j].uuid[:])
	})
}
