package instance

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// activeSubscribe is a subscribe export whose batches go to a client.
// frontier is how far the client has been told: every update at a time
// before it was delivered, so a later batch (from any replica) delivers
// only its part at or after it.
type activeSubscribe struct {
	id       timely.GlobalId
	target   *timely.ReplicaId
	client   any
	frontier timely.Frontier
}

func (c *Core) handleSubscribeResponse(r *replicaState, m *messages.ComputeSubscribeResponse) error {
	id, err := m.GetId().ToTimely()
	if err != nil {
		return fmt.Errorf("%w: subscribe response from %s: %v", ErrMalformedResponse, r.id, err)
	}
	s := c.subscribes[id]
	if s == nil || (s.target != nil && *s.target != r.id) {
		return nil
	}
	switch resp := m.Response.(type) {
	case *messages.ComputeSubscribeResponse_Batch:
		return c.handleSubscribeBatch(r, s, resp.Batch)
	case *messages.ComputeSubscribeResponse_DroppedAt:
		// The replica stopped this subscribe; another replica, or the
		// instance's own drop, ends it for the client.
		c.log(slog.LevelDebug, "replica %s dropped subscribe %s", r.id, id)
		return nil
	}
	return fmt.Errorf("%w: subscribe response for %s from %s is empty", ErrMalformedResponse, id, r.id)
}

func (c *Core) handleSubscribeBatch(r *replicaState, s *activeSubscribe, b *messages.ComputeSubscribeBatch) error {
	lower, err1 := b.GetLower().ToTimely()
	upper, err2 := b.GetUpper().ToTimely()
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: subscribe batch of %s from %s: bad bounds", ErrMalformedResponse, s.id, r.id)
	}
	if upper.LessEqual(s.frontier) {
		return nil // everything in it was delivered already
	}
	if s.frontier.LessThan(lower) {
		c.log(slog.LevelWarn, "subscribe %s: batch from %s starts at %s, past the delivered frontier %s", s.id, r.id, lower, s.frontier)
	}
	ev := SubscribeEvent{Id: s.id, Client: s.client, Lower: s.frontier, Upper: upper}
	if e := b.GetError(); e != nil {
		ev.Err = messages.ErrorFromWire(e)
		c.fx.Subscribes = append(c.fx.Subscribes, ev)
		delete(c.subscribes, s.id)
		return nil
	}
	for _, u := range b.GetUpdates().GetUpdates() {
		// Only the part not delivered yet, and only what the batch covers
		// (a replica sending more breaks the protocol; it is not passed on).
		if t := timely.Timestamp(u.GetTime()); s.frontier.Admits(t) && !upper.Admits(t) {
			ev.Updates = append(ev.Updates, u)
		}
	}
	c.fx.Subscribes = append(c.fx.Subscribes, ev)
	s.frontier = upper
	if upper.IsEmpty() {
		delete(c.subscribes, s.id)
	}
	return nil
}

// endSubscribe ends s with an error batch from its frontier to the end.
func (c *Core) endSubscribe(s *activeSubscribe, err error) {
	c.fx.Subscribes = append(c.fx.Subscribes, SubscribeEvent{Id: s.id, Client: s.client, Lower: s.frontier, Upper: timely.Closed(), Err: err})
	delete(c.subscribes, s.id)
}

func (c *Core) sortedSubscribes() []*activeSubscribe {
	out := make([]*activeSubscribe, 0, len(c.subscribes))
	for _, s := range c.subscribes {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *activeSubscribe) int { return a.id.Compare(b.id) })
	return out
}
