package dataflow

import "github.com/arbor-db/arbor/timely"

// touchGroup is how many updates updateRows hashes and touches before it
// applies them: their home slots (one cache line each) stay in the L1 cache
// until they are used.
const touchGroup = 32

// updateRows applies a batch of updates at time t, each keyed by the whole
// row (whole) or by the cols of its row, as Update would one by one.
//
// A new key's cost at a million keys is a cache and TLB miss on its home
// slot, and one update's miss waits for the last. So updateRows works in
// groups: it hashes a group's keys and reads each home slot in one pass,
// whose loads do not depend on each other and overlap in the memory system,
// then applies the group's updates with the hashes it computed, finding
// their slots in cache.
func (a *Arrangement) updateRows(rows []rowDiff, t timely.Timestamp, cols []int, whole bool) {
	var hashes [touchGroup]uint64
	for len(rows) > 0 {
		g := rows[:min(len(rows), touchGroup)]
		rows = rows[len(g):]
		var sink uint64
		for i := range g {
			var h uint64
			if whole {
				h = g[i].row.Hash()
			} else {
				h = g[i].row.hashCols(cols)
			}
			hashes[i] = h
			if len(a.table.slots) > 0 {
				sink += a.table.slots[a.table.home(h)].hash
			}
		}
		a.touched += sink // keeps the loads
		for i := range g {
			k := keyRef{hash: hashes[i], src: g[i].row, cols: cols, whole: whole}
			a.updateAt(k, g[i].row, t, g[i].diff)
		}
	}
}
