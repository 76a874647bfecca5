package coordinator

import (
	"fmt"
	"time"

	"github.com/arbor-db/arbor/actors/pool"
)

// Tick ticks the flows whose tick interval elapsed at now. It does
// nothing unless Idle (the next tick comes soon enough) or when no flow
// is due.
func (c *Core) Tick(now time.Time) Effects {
	var eff Effects
	if c.phase != Idle {
		return eff
	}
	var due []pool.FlowId
	for _, id := range c.order {
		f := c.flows[id]
		if f.spec.TickInterval <= 0 || f.state == FlowRegistering {
			continue
		}
		if f.lastTick.IsZero() || now.Sub(f.lastTick) >= f.spec.TickInterval {
			f.lastTick = now
			due = append(due, id)
		}
	}
	if len(due) == 0 {
		return eff
	}
	c.move(EvTick{})
	eff.Tick = due
	return eff
}

// Ticked takes the pool's answer to the tick in flight.
func (c *Core) Ticked() Effects {
	var eff Effects
	if c.phase != Ticking {
		panic(fmt.Sprintf("coordinator: tick reply in phase %s", c.phase))
	}
	c.move(EvTicked{})
	c.idle(&eff)
	return eff
}
