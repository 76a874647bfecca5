package cluster

import (
	"errors"
	"time"
)

// Core is the membership actor's state: the view and the placer together.
// It does no I/O, reads no clock and starts no goroutines; the actor
// passes time in and carries the returned Change out.
type Core struct {
	view   *View
	placer *Placer
}

// NewCore returns a core for the member self whose placement ties are
// broken by seed.
func NewCore(self string, seed uint64, maxDeparted int) *Core {
	return &Core{view: NewView(self, maxDeparted), placer: NewPlacer(seed)}
}

// Change is what one observation did.
type Change struct {
	// Events applied, in order.
	Events []Event
	// Failed are the placements on members that left: those replicas'
	// runtimes are gone (or cut off) and are to be placed again.
	Failed []Placement
	// Rejected are events the view refused (ErrRejoin), for the log and
	// the metrics.
	Rejected []error
	// Evicted: this observation is the one that saw this process's own
	// id leave.
	Evicted bool
}

// Observe brings the view to one snapshot of protoactor's membership and
// forgets the placements on every member that left or was blocked.
func (c *Core) Observe(members []MemberInfo, blocked []string, now time.Time) Change {
	var ch Change
	wasEvicted := c.view.Evicted()
	for _, ev := range c.view.Observe(members, blocked, now) {
		if err := c.view.Apply(ev); err != nil {
			if errors.Is(err, ErrRejoin) {
				ch.Rejected = append(ch.Rejected, err)
				continue
			}
			// Observe only emits events Apply accepts or rejects as a
			// rejoin; anything else is a bug in this package.
			panic(err)
		}
		ch.Events = append(ch.Events, ev)
		var gone string
		switch e := ev.(type) {
		case EvLeft:
			gone = e.ID
		case EvBlocked:
			gone = e.ID
		}
		if gone != "" {
			ch.Failed = append(ch.Failed, c.placer.MemberLeft(gone)...)
		}
	}
	ch.Evicted = !wasEvicted && c.view.Evicted()
	return ch
}

// Place chooses a compute member for an incarnation of a replica among the
// members that are up, except those in avoid, and records it
// (Placer.Place).
func (c *Core) Place(key ReplicaKey, incarnation uint64, avoid ...string) (Placement, error) {
	return c.placer.Place(key, incarnation, c.view.Up(), avoid...)
}

// Release forgets a placement (Placer.Release).
func (c *Core) Release(key ReplicaKey, incarnation uint64) bool {
	return c.placer.Release(key, incarnation)
}

// Nodes renders the view with the replicas each member hosts.
func (c *Core) Nodes() Nodes { return c.view.Snapshot(c.placer.Hosted()) }

// Placements returns every recorded placement, ordered by replica.
func (c *Core) Placements() []Placement { return c.placer.Placements() }

// View returns the membership view (read it, do not keep it).
func (c *Core) View() *View { return c.view }
