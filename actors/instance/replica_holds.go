package instance

import (
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// Per-replica input read holds (Materialize's ReplicaCollectionState input
// read holds). A compute collection's dependency holds keep its inputs at
// the collection's since, which follows the fastest replicas (its upper
// is the join of their write frontiers). A replica that lags still reads
// its inputs from its own, earlier, frontier: so for each replica and
// compute collection the instance also holds every input of the
// collection at that replica's reported input frontier (its write
// frontier while it reports no input frontier). The holds are taken when
// the replica learns of the collection (CreateDataflow, or the connect of
// an incarnation, at the collection's since: the as_of its replay
// installs), only ever move forward with the replica's reports, and are
// released when the replica reports the collection dropped (the empty
// frontier), fails or is removed, and when the collection is cleaned up.
// A failed replica's next incarnation takes new holds at the since.

// holdReplicaInputs takes r's holds on the inputs of col at f.
func (c *Core) holdReplicaInputs(r *replicaState, col *collection, rc *replicaCollection, f timely.Frontier) {
	if f.IsEmpty() {
		return
	}
	for _, id := range col.inputs {
		in := c.collections[id]
		if in == nil {
			continue
		}
		h := c.acquireHold(in, f, fmt.Sprintf("replica %s for %s", r.id, col.id))
		rc.inputHolds = append(rc.inputHolds, h.Id)
	}
}

// downgradeReplicaInputs moves r's holds for col to what r reported: its
// input frontier, or its write frontier while it reports none. The empty
// frontier releases them. Holds never move back.
func (c *Core) downgradeReplicaInputs(rc *replicaCollection) {
	f := rc.write
	if rc.inputReported {
		f = rc.input
	}
	for _, id := range rc.inputHolds {
		if h := c.holds[id]; h != nil {
			_ = c.setHold(id, h.Since.Join(f))
		}
	}
	if f.IsEmpty() {
		rc.inputHolds = nil
	}
}

// releaseReplicaInputs releases r's holds for one collection.
func (c *Core) releaseReplicaInputs(rc *replicaCollection) {
	for _, id := range rc.inputHolds {
		c.releaseHold(id)
	}
	rc.inputHolds = nil
}

// releaseReplica releases r's holds for every collection and forgets them.
func (c *Core) releaseReplica(r *replicaState) {
	for _, id := range sortedIds(r.collections) {
		c.releaseReplicaInputs(r.collections[id])
	}
	r.collections = map[timely.GlobalId]*replicaCollection{}
}

func sortedIds[V any](m map[timely.GlobalId]V) []timely.GlobalId {
	ids := make([]timely.GlobalId, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, timely.GlobalId.Compare)
	return ids
}

// checkReplicaHolds verifies, for checkInvariants, that every replica
// collection holds each input of its collection once, all at one frontier,
// or none once released; and that every hold of a replica is one of
// those.
func (c *Core) checkReplicaHolds() error {
	owned := map[HoldId]bool{}
	for _, r := range c.replicas {
		for id, rc := range r.collections {
			col := c.collections[id]
			if col == nil {
				return fmt.Errorf("replica %s tracks unknown collection %s", r.id, id)
			}
			if len(rc.inputHolds) == 0 {
				continue
			}
			if len(rc.inputHolds) != len(col.inputs) {
				return fmt.Errorf("replica %s holds %d inputs of %s, it has %d", r.id, len(rc.inputHolds), id, len(col.inputs))
			}
			var at timely.Frontier
			for i, hid := range rc.inputHolds {
				h := c.holds[hid]
				if h == nil {
					return fmt.Errorf("replica %s: hold %d for %s is gone", r.id, hid, id)
				}
				if h.Collection != col.inputs[i] {
					return fmt.Errorf("replica %s: hold %d for %s is on %s, not %s", r.id, hid, id, h.Collection, col.inputs[i])
				}
				if i > 0 && h.Since != at {
					return fmt.Errorf("replica %s: holds for %s at %s and %s", r.id, id, at, h.Since)
				}
				at = h.Since
				owned[hid] = true
			}
		}
	}
	for _, h := range c.holds {
		if len(h.Holder) > 8 && h.Holder[:8] == "replica " && !owned[h.Id] {
			return fmt.Errorf("hold %d (%s) belongs to no replica collection", h.Id, h.Holder)
		}
	}
	return nil
}
