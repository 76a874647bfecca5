package instance

import (
	"fmt"

	"github.com/arbor-db/arbor/timely"
)

// checkInvariants verifies what every step must preserve; tests call it
// after each one.
//   - each collection's capabilities equal the count of its holds, and its
//     since is their meet;
//   - a compute collection's since is at or after its as_of, and its
//     dependency holds sit at its since;
//   - a pending peek's hold exists, at the peek's time;
//   - no read-hold change is left pending;
//   - each replica collection holds its collection's inputs at one
//     frontier, or holds nothing once released (replica_holds.go).
func (c *Core) checkInvariants() error {
	if len(c.pending) > 0 {
		return fmt.Errorf("%d collections with pending hold changes", len(c.pending))
	}
	counts := map[timely.GlobalId]map[timely.Timestamp]int64{}
	for _, h := range c.holds {
		t, ok := h.Since.Time()
		if !ok {
			return fmt.Errorf("hold %d is released but kept", h.Id)
		}
		if counts[h.Collection] == nil {
			counts[h.Collection] = map[timely.Timestamp]int64{}
		}
		counts[h.Collection][t]++
	}
	for id, col := range c.collections {
		got := col.capabilities.Times()
		if len(got) != len(counts[id]) {
			return fmt.Errorf("%s: capabilities %v, holds %v", id, got, counts[id])
		}
		for _, u := range got {
			if counts[id][u.Time] != u.Diff {
				return fmt.Errorf("%s: capabilities %v, holds %v", id, got, counts[id])
			}
		}
		if col.since != col.capabilities.Frontier() {
			return fmt.Errorf("%s: since %s, capabilities say %s", id, col.since, col.capabilities.Frontier())
		}
		if col.storage {
			continue
		}
		if !col.since.IsEmpty() && !col.asOf.LessEqual(col.since) {
			return fmt.Errorf("%s: since %s before as_of %s", id, col.since, col.asOf)
		}
		for _, dep := range col.depHolds {
			if h := c.holds[dep]; h != nil && h.Since != col.since {
				return fmt.Errorf("%s: dependency hold %d at %s, since %s", id, dep, h.Since, col.since)
			}
		}
	}
	if err := c.checkReplicaHolds(); err != nil {
		return err
	}
	for _, p := range c.peeks {
		h := c.holds[p.hold]
		if h == nil || h.Since != timely.At(p.req.Timestamp) {
			return fmt.Errorf("peek %s: hold %d missing or moved", p.req.Uuid, p.hold)
		}
	}
	return nil
}
