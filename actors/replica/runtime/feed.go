package runtime

import (
	"github.com/arbor-db/arbor/actors/coordinator"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// feed turns the CDC stream (a batch per version, then progress) into
// Consumes for the coordinator, one in flight at a time: what arrives
// meanwhile is queued and sent as one Consume when the previous one is
// answered; a Consume answered busy is put back in front of the queue and
// re-sent when the coordinator says it is Ready. It is a plain struct.
type feed struct {
	start    timely.Timestamp // the subscription's first version
	from     timely.Timestamp // first version of the queued Consume
	upper    timely.Timestamp // latest progress
	pending  map[timely.GlobalId][]dataflow.Update
	inflight *coordinator.Consume
}

func newFeed(from timely.Timestamp) *feed {
	return &feed{start: from, from: from, upper: from, pending: map[timely.GlobalId][]dataflow.Update{}}
}

// batch queues one version's changes. Changes before the feed's start
// come from an older subscription under the same id (the previous
// incarnation's, still ending) and are dropped.
func (f *feed) batch(changes map[timely.GlobalId][]dataflow.Update) {
	for id, us := range changes {
		for _, u := range us {
			if u.Time >= f.start {
				f.pending[id] = append(f.pending[id], u)
			}
		}
	}
}

// progress records the storage upper.
func (f *feed) progress(upper timely.Timestamp) {
	if upper > f.upper {
		f.upper = upper
	}
}

// next returns the Consume to send now, or nil.
func (f *feed) next() *coordinator.Consume {
	if f.inflight != nil || f.upper <= f.from {
		return nil
	}
	// A batch may arrive before the progress that covers it: keep what
	// lies at or past the upper for the next Consume.
	c := &coordinator.Consume{From: f.from, Upper: f.upper, Changes: map[timely.GlobalId][]dataflow.Update{}}
	later := map[timely.GlobalId][]dataflow.Update{}
	for id, us := range f.pending {
		for _, u := range us {
			if u.Time < f.upper {
				c.Changes[id] = append(c.Changes[id], u)
			} else {
				later[id] = append(later[id], u)
			}
		}
	}
	f.pending = later
	f.from = f.upper
	f.inflight = c
	return c
}

// replied records the answer to the Consume in flight; a busy one is
// queued again in front of what came after it.
func (f *feed) replied(busy bool) {
	c := f.inflight
	f.inflight = nil
	if !busy || c == nil {
		return
	}
	for id, us := range f.pending {
		c.Changes[id] = append(c.Changes[id], us...)
	}
	f.pending = c.Changes
	f.from = c.From
}

// restart prepares the feed for a new subscription from `from` (its
// upper): a batch at or after it that arrived without its progress will
// come again, so it is dropped now.
func (f *feed) restart(from timely.Timestamp) {
	f.start = max(f.start, from)
	for id, us := range f.pending {
		kept := us[:0]
		for _, u := range us {
			if u.Time < from {
				kept = append(kept, u)
			}
		}
		f.pending[id] = kept
	}
}
