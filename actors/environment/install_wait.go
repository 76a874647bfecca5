package environment

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Peeks of a dataflow that is not installed. The catalog knows an index or
// materialized view before its instance does: while its CreateDataflow is
// on its way (a create, bootstrap, a replaced instance), and longer for
// one that reads a materialized view of its own cluster, which installAll
// installs after the cluster's other dataflows (it takes a read hold on
// the view at the instance first). A peek sent to the instance then would
// fail "unknown collection" for an object the catalog has. So every
// install is tracked from the moment it is known to come (install,
// installAll) until it ends, and a fast-path peek of an object being
// installed waits here: it goes on to the instance once the dataflow is
// accepted, and fails with the install's error otherwise. The wait is
// bounded by the peek's deadline (the session's statement timeout): an
// expired peek is answered by the tick and not resumed. A peek of an
// object whose install failed, with none in flight, fails UNAVAILABLE
// naming it and that error.

// markInstalling records that objs will be installed later.
func (a *envActor) markInstalling(objs []*object) {
	for _, o := range objs {
		if _, ok := a.installing[o.id]; !ok {
			a.installing[o.id] = nil
		}
	}
}

// trackInstall marks o as being installed and returns cont wrapped to end
// that, running the peeks that waited with the outcome.
func (a *envActor) trackInstall(o *object, cont func(error)) func(error) {
	a.markInstalling([]*object{o})
	return func(err error) {
		waiters := a.installing[o.id]
		delete(a.installing, o.id)
		if err != nil {
			err = fmt.Errorf("%s %q could not be installed: %w", typeName(o.typ), o.name, err)
			a.installErrs[o.id] = err
		} else {
			delete(a.installErrs, o.id)
		}
		for _, w := range waiters {
			w(err)
		}
		cont(err)
	}
}

// awaitInstall parks peek p of collection id while id is being installed,
// to run resume once it is, and fails it when id's install failed; it
// reports whether it took p.
func (a *envActor) awaitInstall(ctx actor.Context, p *pendingPeek, id timely.GlobalId, resume func()) bool {
	fail := func(err error) {
		if p, ok := a.core.FinishPeek(p.uuid); ok {
			a.answerPeek(ctx, p, nil, a.computeError(p, err))
		}
	}
	waiters, ok := a.installing[id]
	if !ok {
		if err, failed := a.installErrs[id]; failed && !a.installed[id] {
			fail(errorf(messages.ErrUnavailable, "%v; it is not installed", err))
			return true
		}
		return false
	}
	a.installing[id] = append(waiters, func(err error) {
		if _, pending := a.core.peeks[p.uuid]; !pending {
			return // timed out, canceled or dropped meanwhile
		}
		if err != nil {
			fail(err)
			return
		}
		resume()
	})
	return true
}
