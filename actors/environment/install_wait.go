package environment

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/timely"
)

// Peeks of a dataflow still being installed. When a cluster's dataflows
// are installed (bootstrap, a replaced instance), those that read a
// materialized view of their own cluster go after the others (installAll):
// each first takes a read hold on the view at the instance. Until its
// CreateDataflow is accepted, the instance does not know the index, and a
// peek sent there would fail "unknown collection" for an object the
// catalog has. So installAll marks those objects as installing, and a fast
// path peek of one waits here for its install to end: it goes on to the
// instance once the dataflow is accepted, and fails with the install's
// error otherwise. The wait is bounded by the peek's deadline (the
// session's statement timeout): an expired peek is answered by the tick
// and not resumed.

// markInstalling records that objs will be installed later.
func (a *envActor) markInstalling(objs []*object) {
	for _, o := range objs {
		if _, ok := a.installing[o.id]; !ok {
			a.installing[o.id] = nil
		}
	}
}

// installEnded runs the peeks that waited for o's install, with its
// outcome.
func (a *envActor) installEnded(o *object, err error) {
	waiters, ok := a.installing[o.id]
	if !ok {
		return
	}
	delete(a.installing, o.id)
	if err != nil {
		err = fmt.Errorf("%s %q could not be installed: %w", typeName(o.typ), o.name, err)
	}
	for _, w := range waiters {
		w(err)
	}
}

// awaitInstall parks peek p of collection id while id is being installed,
// to run resume once it is; it reports whether it parked p.
func (a *envActor) awaitInstall(ctx actor.Context, p *pendingPeek, id timely.GlobalId, resume func()) bool {
	waiters, ok := a.installing[id]
	if !ok {
		return false
	}
	a.installing[id] = append(waiters, func(err error) {
		if _, pending := a.core.peeks[p.uuid]; !pending {
			return // timed out, canceled or dropped meanwhile
		}
		if err != nil {
			if p, ok := a.core.FinishPeek(p.uuid); ok {
				a.answerPeek(ctx, p, nil, a.computeError(p, err))
			}
			return
		}
		resume()
	})
	return true
}
