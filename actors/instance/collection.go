package instance

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// collection is what the instance knows of one collection: a storage
// collection its dataflows read (a table or a materialized view's shard),
// or a compute collection one of its dataflows exports (an index, a
// subscribe or a materialized-view sink).
type collection struct {
	id      timely.GlobalId
	storage bool
	// capabilities are the instance's read holds on the collection; since
	// is their meet as last applied.
	capabilities *timely.MutableFrontier
	since        timely.Frontier
	// upper: for storage, as reported by the caller; for compute, the join
	// of the replicas' write frontiers (any replica's output is correct).
	upper timely.Frontier

	// storage only: the since storage reported, and the schema peeks need.
	storageSince timely.Frontier
	schema       *messages.Schema

	// compute only.
	asOf timely.Frontier
	// until bounds what the collection's dataflow produces (closed: no
	// bound): peeks at or after it are refused.
	until     timely.Frontier
	inputs    []timely.GlobalId
	depHolds  []HoldId
	policy    ReadPolicy
	implied   HoldId
	warmup    HoldId
	transient bool
	scheduled bool
	dropped   bool
	mvSink    bool
	subscribe bool

	wallclockLag time.Duration
}

func newCollection(id timely.GlobalId) *collection {
	return &collection{id: id, capabilities: timely.NewMutableFrontier(), since: timely.Closed(), until: timely.Closed()}
}

// StorageCollection registers a storage collection the instance's
// dataflows and peeks may read: its schema, and its since and upper as
// storage reports them. The instance holds it through StorageHolds
// effects.
type StorageCollection struct {
	Id           timely.GlobalId
	Schema       *messages.Schema
	Since, Upper timely.Frontier
}

// RegisterStorage makes a storage collection known. An id already known
// is ErrCollectionExists.
func (c *Core) RegisterStorage(s StorageCollection) error {
	if _, ok := c.collections[s.Id]; ok {
		return fmt.Errorf("%w: %s", ErrCollectionExists, s.Id)
	}
	col := newCollection(s.Id)
	col.storage, col.schema = true, s.Schema
	col.storageSince, col.upper = s.Since, s.Upper
	c.collections[s.Id] = col
	return nil
}

// UpdateStorageFrontiers reports a storage collection's since and upper.
// A frontier behind the known one is logged and ignored.
func (c *Core) UpdateStorageFrontiers(id timely.GlobalId, since, upper timely.Frontier) error {
	col := c.collections[id]
	if col == nil || !col.storage {
		return fmt.Errorf("%w: storage collection %s", ErrUnknownCollection, id)
	}
	if col.storageSince.LessEqual(since) {
		col.storageSince = since
	} else {
		c.log(slog.LevelWarn, "storage since of %s regressed from %s to %s: ignored", id, col.storageSince, since)
	}
	if col.upper.LessEqual(upper) {
		col.upper = upper
	} else {
		c.log(slog.LevelWarn, "storage upper of %s regressed from %s to %s: ignored", id, col.upper, upper)
	}
	return nil
}

// DataflowOptions are the instance's settings for a new dataflow.
type DataflowOptions struct {
	// ReadPolicy of the exports (nil: held at the as_of until set).
	ReadPolicy *ReadPolicy
	// TargetReplica restricts a subscribe export to one replica.
	TargetReplica *timely.ReplicaId
	// Client receives the subscribe exports' batches.
	Client any
}

// CreateDataflow installs a dataflow on every replica. Its exports become
// collections with since = as_of, held by an implied hold (moved by the
// read policy) and a warmup hold; the dataflow holds each input at its
// since. It is refused, with nothing changed, when the description has no
// as_of or no export, an export id is known (ErrCollectionExists), an input
// is unknown or dropped, or the as_of is before an input's since
// (ErrAsOfCompacted, naming the input and both times).
func (c *Core) CreateDataflow(desc *messages.ComputeDataflowDescription, opts DataflowOptions) error {
	if c.stopped {
		return ErrStopped
	}
	name := desc.GetDebugName()
	if desc.GetAsOf() == nil {
		return fmt.Errorf("%w: dataflow %q has no as_of", ErrInvalidDataflow, name)
	}
	asOf, err := desc.GetAsOf().ToTimely()
	if err != nil {
		return fmt.Errorf("%w: dataflow %q: %v", ErrInvalidDataflow, name, err)
	}
	until := timely.Closed()
	if desc.GetUntil() != nil {
		if until, err = desc.GetUntil().ToTimely(); err != nil {
			return fmt.Errorf("%w: dataflow %q: until: %v", ErrInvalidDataflow, name, err)
		}
		if !asOf.LessThan(until) {
			return fmt.Errorf("%w: dataflow %q: until %s is not after its as_of %s: it could produce nothing", ErrInvalidDataflow, name, until, asOf)
		}
	}
	type export struct {
		id                timely.GlobalId
		subscribe, mvSink bool
	}
	var exports []export
	seen := map[timely.GlobalId]bool{}
	addExport := func(pid *messages.GlobalId, sub, mv bool) error {
		id, err := pid.ToTimely()
		if err != nil {
			return fmt.Errorf("%w: dataflow %q: export: %v", ErrInvalidDataflow, name, err)
		}
		if _, ok := c.collections[id]; ok || seen[id] {
			return fmt.Errorf("%w: %s (dataflow %q)", ErrCollectionExists, id, name)
		}
		seen[id] = true
		exports = append(exports, export{id, sub, mv})
		return nil
	}
	for _, ix := range desc.GetIndexExports() {
		if err := addExport(ix.GetId(), false, false); err != nil {
			return err
		}
	}
	for _, sk := range desc.GetSinkExports() {
		if err := addExport(sk.GetId(), sk.GetSubscribe() != nil, sk.GetMaterializedView() != nil); err != nil {
			return err
		}
	}
	if len(exports) == 0 {
		return fmt.Errorf("%w: dataflow %q exports nothing", ErrInvalidDataflow, name)
	}
	var inputs []*collection
	addInput := func(pid *messages.GlobalId, storage bool) error {
		id, err := pid.ToTimely()
		if err != nil {
			return fmt.Errorf("%w: dataflow %q: import: %v", ErrInvalidDataflow, name, err)
		}
		if seen[id] {
			return fmt.Errorf("%w: dataflow %q imports its own export %s", ErrInvalidDataflow, name, id)
		}
		in, err := c.live(id)
		if err != nil {
			return fmt.Errorf("dataflow %q: input: %w", name, err)
		}
		// A materialized view computed on this cluster is imported as the
		// storage collection its sink writes, under the same id: the
		// instance knows it as that sink export, whose since and upper
		// stand for the collection's (the sink appends up to its write
		// frontier).
		mvCollection := storage && !in.storage && in.mvSink
		if in.storage != storage && !mvCollection {
			return fmt.Errorf("%w: dataflow %q: %s is not a %s", ErrInvalidDataflow, name, id, map[bool]string{true: "storage collection", false: "compute collection"}[storage])
		}
		// A replica serves index imports from its installed indexes only: a
		// sink export imported as an index would be refused by every
		// replica while the instance tracked the dataflow as installed.
		if !storage && (in.mvSink || in.subscribe) {
			return fmt.Errorf("%w: dataflow %q imports %s as an index, but it is a sink export (materialized view or subscribe), not an index", ErrInvalidDataflow, name, id)
		}
		since := in.since
		if in.storage {
			since = in.storageSince
		}
		if !since.LessEqual(asOf) {
			return fmt.Errorf("%w: dataflow %q reads %s at as_of %s but its since is %s", ErrAsOfCompacted, name, id, asOf, since)
		}
		if !slices.Contains(inputs, in) {
			inputs = append(inputs, in)
		}
		return nil
	}
	for _, si := range desc.GetSourceImports() {
		if err := addInput(si.GetId(), true); err != nil {
			return err
		}
	}
	for _, ii := range desc.GetIndexImports() {
		if err := addInput(ii.GetId(), false); err != nil {
			return err
		}
	}
	if opts.TargetReplica != nil {
		if _, ok := c.replicas[*opts.TargetReplica]; !ok {
			return fmt.Errorf("%w: %s (target of dataflow %q)", ErrUnknownReplica, *opts.TargetReplica, name)
		}
	}

	// Valid: apply.
	var inputIds []timely.GlobalId
	for _, in := range inputs {
		inputIds = append(inputIds, in.id)
	}
	for _, e := range exports {
		col := newCollection(e.id)
		col.asOf, col.until, col.inputs, col.mvSink, col.subscribe = asOf, until, inputIds, e.mvSink, e.subscribe
		col.transient = e.id.Kind == timely.Transient
		col.upper, col.since = timely.Minimum(), asOf
		if opts.ReadPolicy != nil {
			col.policy = *opts.ReadPolicy
		}
		c.collections[e.id] = col
		col.implied = c.acquireHold(col, asOf, "implied").Id
		col.warmup = c.acquireHold(col, asOf, "warmup").Id
		for _, in := range inputs {
			col.depHolds = append(col.depHolds, c.acquireHold(in, asOf, "dataflow "+e.id.String()).Id)
		}
		for _, r := range c.sortedReplicas() {
			if r.status == ReplicaActive {
				rc := newReplicaCollection()
				r.collections[e.id] = rc
				c.holdReplicaInputs(r, col, rc, asOf)
			}
		}
		if e.subscribe {
			c.subscribes[e.id] = &activeSubscribe{id: e.id, target: opts.TargetReplica, client: opts.Client, frontier: asOf}
		}
	}
	c.applyHoldChanges()
	c.broadcast(&messages.ComputeCommand{Command: &messages.ComputeCommand_CreateDataflow{CreateDataflow: &messages.ComputeCreateDataflow{Dataflow: desc}}})
	for _, e := range exports {
		if e.mvSink && !c.readOnly {
			c.allowWrites(e.id)
		}
	}
	for _, e := range exports {
		if e.id.Kind == timely.Transient {
			c.schedule(c.collections[e.id])
		}
	}
	if t := opts.TargetReplica; t != nil && c.replicas[*t].status != ReplicaActive {
		// Like a peek at a replica that is down: accepted, and ended at once.
		for _, s := range c.sortedSubscribes() {
			if seen[s.id] {
				c.endSubscribe(s, fmt.Errorf("%w: %s is %s", ErrReplicaFailed, *t, c.replicas[*t].status))
			}
		}
	}
	return nil
}

// liveCompute checks that every id names a live compute collection, so a
// call over several ids is refused whole before any is touched.
func (c *Core) liveCompute(ids []timely.GlobalId) error {
	for _, id := range ids {
		col, err := c.live(id)
		if err != nil {
			return err
		}
		if col.storage {
			return fmt.Errorf("%w: %s is a storage collection", ErrInvalidDataflow, id)
		}
	}
	return nil
}

// SetReadPolicy sets the read policy of compute collections; it applies at
// once. Unknown or dropped collections refuse the whole call.
func (c *Core) SetReadPolicy(policy ReadPolicy, ids ...timely.GlobalId) error {
	if err := c.liveCompute(ids); err != nil {
		return err
	}
	for _, id := range ids {
		col := c.collections[id]
		col.policy = policy
		c.updateImplied(col)
	}
	c.applyHoldChanges()
	return nil
}

// updateImplied moves col's implied hold to its policy's frontier of its
// upper, never backwards.
func (c *Core) updateImplied(col *collection) {
	h := c.holds[col.implied]
	if h == nil {
		return
	}
	f, ok := col.policy.Frontier(col.upper)
	if !ok {
		return
	}
	_ = c.setHold(h.Id, h.Since.Join(f))
}

// DropCollections drops compute collections: their implied and warmup
// holds are released (other holders keep theirs) and active subscribes end
// with DroppedAt. The collection is cleaned up once no hold remains and
// every replica reported its write frontier empty. Unknown or already
// dropped ids refuse the whole call.
func (c *Core) DropCollections(ids ...timely.GlobalId) error {
	if err := c.liveCompute(ids); err != nil {
		return err
	}
	for _, id := range ids {
		col := c.collections[id]
		col.dropped = true
		c.releaseHold(col.implied)
		c.releaseHold(col.warmup)
		col.implied, col.warmup = 0, 0
		if s := c.subscribes[id]; s != nil {
			f := s.frontier
			c.fx.Subscribes = append(c.fx.Subscribes, SubscribeEvent{Id: id, Client: s.client, DroppedAt: &f})
			delete(c.subscribes, id)
		}
	}
	c.applyHoldChanges()
	return nil
}

// scheduleReady schedules every collection whose inputs' uppers are past
// its as_of.
func (c *Core) scheduleReady() {
	for _, col := range c.sortedCollections() {
		if col.storage || col.scheduled || col.dropped {
			continue
		}
		ready := true
		if !col.asOf.IsEmpty() {
			for _, id := range col.inputs {
				in := c.collections[id]
				if in == nil || !col.asOf.LessThan(in.upper) {
					ready = false
					break
				}
			}
		}
		if ready {
			c.schedule(col)
		}
	}
}

func (c *Core) schedule(col *collection) {
	col.scheduled = true
	c.broadcast(&messages.ComputeCommand{Command: &messages.ComputeCommand_Schedule{Schedule: &messages.ComputeSchedule{Id: messages.FromGlobalId(col.id)}}})
}

// downgradeWarmup moves each warmup hold to the latest time all the
// collection's inputs can still serve (the meet of their upper - 1), so a
// rehydrating replica can be given an as_of its inputs hold.
func (c *Core) downgradeWarmup() {
	for _, col := range c.sortedCollections() {
		h := c.holds[col.warmup]
		if h == nil {
			continue
		}
		target := timely.Closed()
		for _, id := range col.inputs {
			in := c.collections[id]
			if in == nil || in.upper.IsEmpty() {
				continue
			}
			t, _ := in.upper.Time()
			last, ok := t.StepBack()
			if !ok {
				target = timely.Minimum()
				continue
			}
			target = target.Meet(timely.At(last))
		}
		_ = c.setHold(h.Id, h.Since.Join(target))
		if target.IsEmpty() {
			col.warmup = 0
		}
	}
}

// maybeCleanup forgets a dropped collection once no read hold remains and
// no connected replica still reports it (a non-empty write frontier).
func (c *Core) maybeCleanup(col *collection) {
	if !col.dropped || !col.capabilities.IsEmpty() || len(c.pending[col.id]) > 0 {
		return
	}
	for _, r := range c.replicas {
		if rc := r.collections[col.id]; rc != nil && !rc.write.IsEmpty() {
			return
		}
	}
	for _, r := range c.replicas {
		if rc := r.collections[col.id]; rc != nil {
			c.releaseReplicaInputs(rc)
		}
		delete(r.collections, col.id)
	}
	delete(c.collections, col.id)
	c.log(slog.LevelDebug, "collection %s cleaned up", col.id)
}

// cleanupDropped cleans up every dropped collection that may go, and
// applies the hold changes that releases.
func (c *Core) cleanupDropped() {
	for _, col := range c.sortedCollections() {
		c.maybeCleanup(col)
	}
	c.applyHoldChanges()
}

// refreshLag computes each compute collection's wallclock lag: how far its
// last complete time (upper - 1, in milliseconds) is behind now; zero for a
// collection complete at its dataflow's until.
func (c *Core) refreshLag(now time.Time) {
	ms := now.UnixMilli()
	for _, col := range c.collections {
		if col.storage {
			continue
		}
		t, ok := col.upper.Time()
		if !ok || col.until.LessEqual(col.upper) {
			// Closed, or complete at its dataflow's until: nothing lags.
			col.wallclockLag = 0
			continue
		}
		last := int64(t) - 1
		if lag := ms - last; lag > 0 {
			col.wallclockLag = time.Duration(lag) * time.Millisecond
		} else {
			col.wallclockLag = 0
		}
	}
}

func (c *Core) sortedCollections() []*collection {
	out := make([]*collection, 0, len(c.collections))
	for _, col := range c.collections {
		out = append(out, col)
	}
	slices.SortFunc(out, func(a, b *collection) int { return a.id.Compare(b.id) })
	return out
}
