package runtime

import (
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/coordinator"
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Imported storage collections. A source import with collection set (a
// materialized view's shard, written by whichever cluster computes the
// view, this one included) is read from storage, not recomputed: the
// runtime subscribes to that collection's own CDC, one subscription per
// collection named SubscriptionId + "/" + id, and reports its progress to
// the coordinator as CollectionProgress (its upper is its own, not the
// tables'), with the changes its batches delivered since the previous
// progress. The coordinator's flows over it read its history up to that
// upper from those changes while it keeps them, and with range reads from
// storage otherwise (coordinator/collection.go).
//
// Before the flows of a dataflow install, the table check (nextBuild)
// names the collections too: storage must know each as a collection
// whose schema is the one the import declares, else the dataflow is
// refused whole with a coded error naming the collection.
//
// Each import has its own named read hold, SubscriptionId + "/" + id +
// "/hold", acquired at the collection's since when first imported, kept in
// the value New creates (so it survives the actor's restarts, as the
// tables' hold does), moved forward with the tables' hold (holds.go) to
// what the flows reading it still need, and released once no flow reads
// it. The subscription itself is ended on a restart (its PID survives) and
// made again when a flow needs it.

// collectionImport is the runtime's state of one imported collection.
type collectionImport struct {
	id    timely.GlobalId
	subId string
	// upper is the collection's upper as last told to the coordinator.
	upper timely.Timestamp
	// pending are the changes at or after upper its batches delivered,
	// which go with the next progress.
	pending []dataflow.Update
}

func (a *runtimeActor) importSubId(id timely.GlobalId) string {
	return a.cfg.SubscriptionId + "/" + id.String()
}

func (a *runtimeActor) importHoldId(id timely.GlobalId) string { return a.importSubId(id) + "/hold" }

// importBySub finds the import a storage message with subscription id sub
// is about.
func (a *runtimeActor) importBySub(sub string) *collectionImport {
	for _, im := range a.imports {
		if im.subId == sub {
			return im
		}
	}
	return nil
}

// handleImportMessage handles what concerns imported collections: their
// CDC messages (answered here, reporting true) and the actor's restart
// (its subscriptions end; reporting false, so the runtime's own handling
// follows).
func (a *runtimeActor) handleImportMessage(ctx actor.Context) bool {
	switch m := ctx.Message().(type) {
	case *actor.Restarting:
		// The PID survives the restart, so storage would keep the
		// subscriptions: end them. The holds stay (carried).
		for _, im := range a.imports {
			ctx.Request(a.cfg.Storage, &messages.StorageUnsubscribe{SubscriptionId: im.subId})
		}
		return false
	case *messages.StorageSubscribeResponse:
		im := a.importBySub(m.GetSubscriptionId())
		if im == nil {
			return false
		}
		if err := storageErr(ErrStorage, "subscribe to collection "+im.id.String(), m.GetError()); err != nil {
			a.importFailed(ctx, im, err)
		}
		return true
	case *messages.StorageCdcBatch:
		im := a.importBySub(m.GetSubscriptionId())
		if im == nil {
			return false
		}
		changes, err := decodeVersion(m.GetBatch())
		if err != nil {
			a.importFailed(ctx, im, err)
			return true
		}
		for _, u := range changes[im.id] {
			if u.Time >= im.upper {
				im.pending = append(im.pending, u)
			}
		}
		return true
	case *messages.StorageCdcProgress:
		im := a.importBySub(m.GetSubscriptionId())
		if im == nil {
			return false
		}
		if t, ok := frontierTime(m.GetUpper()); ok {
			a.importProgress(ctx, im, t)
		}
		return true
	case *messages.StorageCdcTableDropped:
		im := a.importBySub(m.GetSubscriptionId())
		if im == nil {
			return false
		}
		a.importFailed(ctx, im, messages.WithObject(fmt.Errorf("%w: storage collection %s was dropped", ErrDropped, im.id), im.id.String()))
		return true
	case *messages.StorageCdcEnded:
		im := a.importBySub(m.GetSubscriptionId())
		if im == nil {
			return false
		}
		// Storage stopped or could not resume: subscribe again from the
		// upper told to the coordinator (the import's hold keeps it).
		a.cfg.Logger.Warn("storage ended a collection subscription; subscribing again", "collection", im.id, "from", im.upper, "err", m.GetError())
		ctx.Request(a.cfg.Storage, &messages.StorageUnsubscribe{SubscriptionId: im.subId})
		im.pending = nil // the new subscription delivers them again
		a.subscribeImport(ctx, im)
		return true
	}
	return false
}

// checkImports checks the storage collections a build imports against
// storage's answer to its table check: each must be a collection (and
// each table import must not be one) with the schema the import declares.
// On success it starts the imports the build needs (subscription, hold,
// the upper known so far to the coordinator).
func (a *runtimeActor) checkImports(ctx actor.Context, b *build, res any) error {
	fr, ok := res.(*messages.StorageFrontiersResponse)
	if !ok {
		return nil // tablesErr refused it already
	}
	name := b.df.Desc.GetDebugName()
	byId := map[timely.GlobalId]*messages.StorageTableFrontiers{}
	for _, tf := range fr.GetTables() {
		if id, err := tf.GetTable().ToTimely(); err == nil {
			byId[id] = tf
		}
	}
	imports := map[timely.GlobalId]*messages.ComputeSourceImport{}
	for _, s := range b.df.Desc.GetSourceImports() {
		if id, err := s.GetId().ToTimely(); err == nil {
			imports[id] = s
		}
	}
	var start []*messages.StorageTableFrontiers
	for _, f := range b.flows {
		for _, s := range f.spec.Sources {
			tf := byId[s.Id]
			if tf == nil || (s.Kind != pool.SourceTable && s.Kind != pool.SourceCollection) {
				continue
			}
			switch {
			case s.Kind == pool.SourceTable && tf.GetCollection():
				return messages.WithObject(fmt.Errorf("%w: dataflow %q imports %s as a table, but it is a storage collection (import it with collection set)", ErrInvalidCommand, name, s.Id), s.Id.String())
			case s.Kind == pool.SourceCollection && !tf.GetCollection():
				return messages.WithObject(fmt.Errorf("%w: dataflow %q imports %s as a storage collection, but it is a table", ErrInvalidCommand, name, s.Id), s.Id.String())
			case s.Kind == pool.SourceTable:
				continue
			}
			want, err1 := dataflow.SchemaFromWire(imports[s.Id].GetSchema())
			have, err2 := dataflow.SchemaFromWire(tf.GetSchema())
			if err1 != nil || err2 != nil || !slices.Equal(want, have) {
				return messages.WithObject(fmt.Errorf("%w: dataflow %q imports storage collection %s with schema %v, but the collection's schema is %v", ErrInvalidCommand, name, s.Id, want, have), s.Id.String())
			}
			if !slices.Contains(start, tf) {
				start = append(start, tf)
			}
		}
	}
	for _, tf := range start {
		a.startImport(ctx, tf)
	}
	return nil
}

// startImport makes sure collection tf is imported: its hold taken (once;
// a carried one is kept), its subscription made from the upper storage
// reported, and that upper told to the coordinator as where the
// collection's changes start to come (earlier history is read from
// storage). An import already running is left alone: its subscription's
// progress is what the coordinator hears (an upper a later check saw may
// be ahead of the changes delivered so far).
func (a *runtimeActor) startImport(ctx actor.Context, tf *messages.StorageTableFrontiers) {
	id, _ := tf.GetTable().ToTimely()
	since, _ := frontierTime(tf.GetSince())
	upper, _ := frontierTime(tf.GetUpper())
	if a.imports == nil {
		a.imports = map[timely.GlobalId]*collectionImport{}
	}
	if _, ok := a.imports[id]; ok {
		return
	}
	im := &collectionImport{id: id, subId: a.importSubId(id), upper: upper}
	a.imports[id] = im
	if a.coord != nil {
		ctx.Send(a.coord, &coordinator.CollectionProgress{Collection: id, From: upper, Upper: upper})
	}
	if a.carried.imports == nil {
		a.carried.imports = map[timely.GlobalId]timely.Timestamp{}
	}
	if _, held := a.carried.imports[id]; !held {
		a.carried.imports[id] = since
		ctx.Request(a.cfg.Storage, &messages.StorageAcquireReadHold{HoldId: a.importHoldId(id), Tables: []*messages.GlobalId{messages.FromGlobalId(id)}, At: uint64(since)})
	}
	a.subscribeImport(ctx, im)
}

// subscribeImport subscribes to the collection from the upper the
// coordinator knows (its history before that is read by range reads).
func (a *runtimeActor) subscribeImport(ctx actor.Context, im *collectionImport) {
	from := im.upper
	ctx.Request(a.cfg.Storage, &messages.StorageSubscribe{SubscriptionId: im.subId, Tables: []*messages.GlobalId{messages.FromGlobalId(im.id)}, From: uint64(from), HoldFollowsProgress: true})
}

// importProgress tells the coordinator the collection's new upper, with
// the changes delivered below it since the last progress. The upper a
// table check saw (no changes known) comes as an upper only: the
// subscription's progress brings those changes.
func (a *runtimeActor) importProgress(ctx actor.Context, im *collectionImport, upper timely.Timestamp) {
	if upper <= im.upper {
		return
	}
	var now, later []dataflow.Update
	for _, u := range im.pending {
		if u.Time < upper {
			now = append(now, u)
		} else {
			later = append(later, u)
		}
	}
	im.pending = later
	from := im.upper
	im.upper = upper
	if a.coord != nil {
		ctx.Send(a.coord, &coordinator.CollectionProgress{Collection: im.id, From: from, Upper: upper, Changes: now})
	}
}

// importFailed reports a collection the runtime can no longer follow to
// the controller, once per flow reading it; the flows stay at their
// checkpoints (a dropped collection never advances).
func (a *runtimeActor) importFailed(ctx actor.Context, im *collectionImport, err error) {
	a.cfg.Logger.Warn("imported storage collection failed", "collection", im.id, "err", err)
	for _, f := range a.sortedFlows() {
		if readsCollection(f, im.id) {
			// The cause first: its code (DROPPED, ...) is the status's.
			a.status(ctx, &f.export, messages.WithObject(fmt.Errorf("%w; %w: %s cannot advance past its checkpoint %d", err, ErrFlow, f.export, f.checkpoint), f.export.String()))
		}
	}
}

func readsCollection(f *flowState, id timely.GlobalId) bool {
	return slices.ContainsFunc(f.spec.Sources, func(s pool.Source) bool { return s.Kind == pool.SourceCollection && s.Id == id })
}

// sortedFlows returns the flows in export order (deterministic reports).
func (a *runtimeActor) sortedFlows() []*flowState {
	out := make([]*flowState, 0, len(a.flows))
	for _, f := range a.flows {
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y *flowState) int { return x.export.Compare(y.export) })
	return out
}

// downgradeImportHolds moves each import's hold to what the flows reading
// the collection still need, and ends the imports no flow reads: their
// subscription and their hold. Called from downgradeHold, in the
// computation stage only.
func (a *runtimeActor) downgradeImportHolds(ctx actor.Context) {
	ids := make([]timely.GlobalId, 0, len(a.carried.imports))
	for id := range a.carried.imports {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, timely.GlobalId.Compare)
	for _, id := range ids {
		var needs []flowNeed
		for _, f := range a.flows {
			if readsCollection(f, id) {
				needs = append(needs, flowNeed{asOf: f.spec.AsOf, compaction: f.compaction, checkpoint: f.checkpoint})
			}
		}
		im := a.imports[id]
		if len(needs) == 0 {
			if im != nil {
				ctx.Request(a.cfg.Storage, &messages.StorageUnsubscribe{SubscriptionId: im.subId})
				delete(a.imports, id)
			}
			ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: a.importHoldId(id)})
			delete(a.carried.imports, id)
			continue
		}
		if im == nil {
			continue // its flows wait for their check; the import starts then
		}
		if target := holdTarget(im.upper, needs); target > a.carried.imports[id] {
			a.carried.imports[id] = target
			ctx.Request(a.cfg.Storage, &messages.StorageDowngradeReadHold{HoldId: a.importHoldId(id), At: uint64(target)})
		}
	}
}
