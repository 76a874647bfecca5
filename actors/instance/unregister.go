package instance

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// UnregisterStorage forgets a storage collection (a dropped table or
// materialized view's collection); answered with Reply. The instance's
// read holds on it are released (StorageHolds effects), and its dumps no
// longer list it.
type UnregisterStorage struct {
	Id timely.GlobalId
}

// UnregisterStorage forgets storage collection id. It refuses an id that
// is not a registered storage collection (ErrUnknownCollection) and one
// that a dataflow not yet dropped reads (ErrCollectionInUse, naming the
// reader); then nothing changes. Otherwise its pending peeks end with
// ErrCollectionDropped, every read hold on it is released, those of
// dropped readers still cleaning up included (they forget it as an input,
// so their cleanup does not touch it; their replicas' input holds are
// released), and the collection is removed. A later dataflow or peek
// naming it is refused as unknown.
func (c *Core) UnregisterStorage(id timely.GlobalId) error {
	col := c.collections[id]
	if col == nil || !col.storage {
		return fmt.Errorf("%w: storage collection %s", ErrUnknownCollection, id)
	}
	for _, reader := range c.sortedCollections() {
		if !reader.storage && !reader.dropped && slices.Contains(reader.inputs, id) {
			return fmt.Errorf("%w: storage collection %s is read by %s", ErrCollectionInUse, id, reader.id)
		}
	}
	// Peeks of it end: the collection is gone.
	for _, p := range c.sortedPeeks() {
		if p.req.Collection == id {
			c.finishPeek(p, nil, fmt.Errorf("%w: storage collection %s was unregistered", ErrCollectionDropped, id), timely.ReplicaId{}, "canceled", true)
		}
	}
	// Dropped readers forget it as an input: their dependency holds on it
	// go, and their replicas' input holds (which hold every input at one
	// frontier) are released; a replica that connects later holds the
	// inputs that remain.
	for _, reader := range c.sortedCollections() {
		if !slices.Contains(reader.inputs, id) {
			continue
		}
		reader.inputs = slices.DeleteFunc(slices.Clone(reader.inputs), func(in timely.GlobalId) bool { return in == id })
		reader.depHolds = slices.DeleteFunc(reader.depHolds, func(h HoldId) bool {
			held := c.holds[h]
			return held != nil && held.Collection == id
		})
		for _, r := range c.sortedReplicas() {
			if rc := r.collections[reader.id]; rc != nil {
				c.releaseReplicaInputs(rc)
			}
		}
	}
	for _, h := range c.sortedHolds() {
		if h.Collection == id {
			c.releaseHold(h.Id)
		}
	}
	c.applyHoldChanges()
	delete(c.collections, id)
	c.log(slog.LevelInfo, "storage collection %s unregistered", id)
	return nil
}
