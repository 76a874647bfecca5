package instance

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// clientHolder marks the holds of outside holders.
const clientHolder = "client"

// HoldId names a read hold within one instance.
type HoldId uint64

// ReadHold is a value: a promise that Collection stays readable at times
// at or after Since. Its holder downgrades it (moves Since forward) or
// releases it; it never regresses. The collection's since is the meet of
// its holds.
type ReadHold struct {
	Id         HoldId
	Collection timely.GlobalId
	Since      timely.Frontier
	// Holder says who holds it, for dumps: "implied", "warmup", "peek",
	// "dataflow u5", "client".
	Holder string
}

// acquireHold takes a new hold on col at f. The change is pending until
// applyHoldChanges.
func (c *Core) acquireHold(col *collection, f timely.Frontier, holder string) *ReadHold {
	c.nextHold++
	h := &ReadHold{Id: c.nextHold, Collection: col.id, Since: f, Holder: holder}
	c.holds[h.Id] = h
	c.pendHold(col.id, f, +1)
	if col.storage {
		c.fx.StorageHolds = append(c.fx.StorageHolds, StorageHoldChange{Op: HoldAcquire, Hold: h.Id, Collection: col.id, Frontier: f})
	}
	return h
}

// setHold moves hold id to f (the empty frontier releases it). It refuses
// a regression.
func (c *Core) setHold(id HoldId, f timely.Frontier) error {
	h, ok := c.holds[id]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownHold, id)
	}
	if !h.Since.LessEqual(f) {
		return fmt.Errorf("%w: hold %d on %s from %s to %s", ErrHoldRegression, id, h.Collection, h.Since, f)
	}
	if h.Since == f {
		return nil
	}
	c.pendHold(h.Collection, h.Since, -1)
	c.pendHold(h.Collection, f, +1)
	if col := c.collections[h.Collection]; col != nil && col.storage {
		op := HoldDowngrade
		if f.IsEmpty() {
			op = HoldRelease
		}
		c.fx.StorageHolds = append(c.fx.StorageHolds, StorageHoldChange{Op: op, Hold: id, Collection: h.Collection, Frontier: f})
	}
	h.Since = f
	if f.IsEmpty() {
		delete(c.holds, id)
	}
	return nil
}

// releaseHold releases hold id if it is still held.
func (c *Core) releaseHold(id HoldId) {
	if id == 0 {
		return
	}
	if _, ok := c.holds[id]; ok {
		_ = c.setHold(id, timely.Closed())
	}
}

func (c *Core) pendHold(id timely.GlobalId, f timely.Frontier, diff int64) {
	if t, ok := f.Time(); ok {
		c.pending[id] = append(c.pending[id], timely.Update{Time: t, Diff: diff})
	}
}

// dependencyOrder orders collection ids so that a dataflow's exports come
// after its inputs: system, then user, then transient ids, each by number
// (ids are allocated in creation order, and a dataflow is created after
// its inputs).
func dependencyOrder(a, b timely.GlobalId) int {
	rank := func(k timely.IdKind) int {
		switch k {
		case timely.System:
			return 0
		case timely.User:
			return 1
		}
		return 2
	}
	if ra, rb := rank(a.Kind), rank(b.Kind); ra != rb {
		return ra - rb
	}
	return a.Compare(b)
}

// applyHoldChanges applies the pending read-hold changes, collection by
// collection in reverse dependency order: a dataflow comes after its
// inputs (dependencyOrder), so when its since advances and it downgrades its holds on
// them, those changes join their pending batch and each input's since is
// recomputed once. A since that advances is announced to the replicas
// with AllowCompaction (the empty frontier drops the collection).
func (c *Core) applyHoldChanges() {
	for len(c.pending) > 0 {
		ids := make([]timely.GlobalId, 0, len(c.pending))
		for id := range c.pending {
			ids = append(ids, id)
		}
		id := slices.MaxFunc(ids, dependencyOrder)
		updates := c.pending[id]
		delete(c.pending, id)
		col := c.collections[id]
		if col == nil {
			c.log(slog.LevelError, "read-hold change for unknown collection %s dropped", id)
			continue
		}
		if _, err := col.capabilities.Update(updates...); err != nil {
			// Holds are tracked one by one; a negative count is a bug here.
			panic(fmt.Sprintf("instance: read holds of %s: %v", id, err))
		}
		since := col.capabilities.Frontier()
		if since == col.since {
			continue
		}
		if !col.storage && !col.since.LessEqual(since) {
			// A compute collection's holds are all taken at or after its
			// since, so its since never goes back. (The instance's own holds
			// on a storage collection may start earlier than the others:
			// storage's since is what bounds those.)
			panic(fmt.Sprintf("instance: since of %s regressed from %s to %s", id, col.since, since))
		}
		col.since = since
		if col.storage {
			continue
		}
		for _, dep := range col.depHolds {
			if err := c.setHold(dep, since); err != nil {
				panic(fmt.Sprintf("instance: dependency hold of %s: %v", id, err))
			}
		}
		c.broadcast(allowCompaction(id, since))
		if since.IsEmpty() {
			c.maybeCleanup(col)
		}
	}
}

// AcquireReadHold takes a hold on collection id at its current since (for
// a storage collection, storage's since) for an outside holder, who must downgrade and release it with
// DowngradeReadHold and ReleaseReadHold.
func (c *Core) AcquireReadHold(id timely.GlobalId) (ReadHold, error) {
	col, err := c.live(id)
	if err != nil {
		return ReadHold{}, err
	}
	since := col.since
	if col.storage {
		// The instance's own holds may be fewer than storage's: what is
		// readable is what storage still has.
		since = col.storageSince
	}
	if since.IsEmpty() {
		return ReadHold{}, fmt.Errorf("%w: %s is compacted away", ErrCollectionDropped, id)
	}
	h := c.acquireHold(col, since, clientHolder)
	c.applyHoldChanges()
	return *h, nil
}

// DowngradeReadHold moves an outside hold forward to f. A regression is
// an error and changes nothing; so is naming a hold the instance took for
// itself (implied, warmup, dependency or peek holds are not the caller's).
func (c *Core) DowngradeReadHold(id HoldId, f timely.Frontier) error {
	if h := c.holds[id]; h == nil || h.Holder != clientHolder {
		return fmt.Errorf("%w: %d", ErrUnknownHold, id)
	}
	if err := c.setHold(id, f); err != nil {
		return err
	}
	c.applyHoldChanges()
	return nil
}

// ReleaseReadHold drops an outside hold.
func (c *Core) ReleaseReadHold(id HoldId) error {
	return c.DowngradeReadHold(id, timely.Closed())
}
