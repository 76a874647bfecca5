package environment

import (
	"errors"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/timely"
)

// Dropped storage collections leave the instances. A dropped table is
// registered with every instance, a dropped materialized view's
// collection with the instances of the other clusters; each is told
// UnregisterStorage, which releases its read holds on the collection (to
// storage, through StorageHolds) and forgets it, so no hold on a dropped
// collection outlives it and its frontiers stop being polled. An instance
// refuses while a dataflow not yet dropped reads it (a transient peek's,
// ending with its peek): the environment asks again at the next ticks, up
// to maxUnregisterTries times. An instance that stops forgets it anyway.

// maxUnregisterTries bounds how many ticks an unregistration is retried.
const maxUnregisterTries = 50

// pendingUnregister is an unregistration an instance refused.
type pendingUnregister struct {
	name     string
	tries    int
	inFlight bool
}

// unregisterStorage tells the instances (but that of cluster except, when
// set) that storage collection id, named name, was dropped.
func (a *envActor) unregisterStorage(ctx actor.Context, id timely.GlobalId, name string, except *timely.ClusterId) {
	delete(a.frontiers, id)
	for cid := range a.instances {
		if except != nil && cid == *except {
			continue
		}
		a.sendUnregister(ctx, cid, id, &pendingUnregister{name: name})
	}
}

// sendUnregister asks cluster cid's instance to unregister id, and keeps
// p for a retry when the instance refuses.
func (a *envActor) sendUnregister(ctx actor.Context, cid timely.ClusterId, id timely.GlobalId, p *pendingUnregister) {
	pid, ok := a.instances[cid]
	if !ok {
		return
	}
	p.tries++
	p.inFlight = true
	a.instanceCall(ctx, pid, instance.UnregisterStorage{Id: id}, func(err error) {
		p.inFlight = false
		pending := a.unregisters[cid]
		switch {
		case err == nil || errors.Is(err, instance.ErrUnknownCollection):
			delete(pending, id)
		case errors.Is(err, instance.ErrCollectionInUse) && p.tries < maxUnregisterTries && a.instances[cid].Equal(pid):
			if pending == nil {
				pending = map[timely.GlobalId]*pendingUnregister{}
				a.unregisters[cid] = pending
			}
			pending[id] = p
		default:
			delete(pending, id)
			a.logFailure("unregister storage collection", p.name)(err)
		}
	})
}

// retryUnregisters asks again the instances that refused an
// unregistration. Called at every tick.
func (a *envActor) retryUnregisters(ctx actor.Context) {
	for cid, pending := range a.unregisters {
		if _, running := a.instances[cid]; !running {
			delete(a.unregisters, cid)
			continue
		}
		ids := make([]timely.GlobalId, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, timely.GlobalId.Compare)
		for _, id := range ids {
			if p := pending[id]; !p.inFlight {
				a.sendUnregister(ctx, cid, id, p)
			}
		}
	}
}
