package runtime

import (
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// BuildEvent is an input of the build queue: one of the Build* event types
// below.
type BuildEvent interface{ buildEvent() }

type (
	// BuildReady: storage answered the startup frontiers; checks may
	// start.
	BuildReady struct{}
	// BuildEnqueued: a planned dataflow joins the queue. Key names it
	// (unique), Exports are its exports, Tables the tables and storage
	// collections its flows read (those storage must confirm).
	BuildEnqueued struct {
		Key     uint64
		Exports []timely.GlobalId
		Tables  []timely.GlobalId
	}
	// BuildChecked: storage answered the check of build Key; Err is its
	// refusal (or the call's failure), nil when every table is confirmed.
	BuildChecked struct {
		Key uint64
		Err error
	}
	// BuildForget: export was dropped; its build no longer installs it,
	// and a build left with no export is canceled.
	BuildForget struct{ Export timely.GlobalId }
)

func (BuildReady) buildEvent()    {}
func (BuildEnqueued) buildEvent() {}
func (BuildChecked) buildEvent()  {}
func (BuildForget) buildEvent()   {}

// BuildEffects is what the actor does after a step, in field order.
type BuildEffects struct {
	// Fail: a build storage refused, with the error: its flows are
	// forgotten and the controller told.
	Fail *BuildFailure
	// Install: builds whose check passed (or that read no table), in
	// queue order: their flows are checked (FlowLife EvChecked).
	Install []uint64
	// Check: ask storage to confirm Tables for build Key (one at a time).
	Check *BuildCheck
	// Gone: builds that leave the queue without installing or failing
	// (every export forgotten): the actor forgets them.
	Gone []uint64
}

// BuildFailure is a refused build.
type BuildFailure struct {
	Key uint64
	Err error
}

// BuildCheck is the table check to make.
type BuildCheck struct {
	Key    uint64
	Tables []timely.GlobalId
}

// queuedBuild is one build in the queue.
type queuedBuild struct {
	key      uint64
	exports  []timely.GlobalId
	tables   []timely.GlobalId
	checking bool
	canceled bool
}

// BuildQueue is the pure state of the runtime's builds: dataflows waiting
// for storage to confirm the tables they read. Builds run one at a time,
// in arrival order, so a view installs before the flows that read it.
// Step is its one transition function; per build:
//
//	queued ──(head, ready, tables)──► checking ──checked ok──► installed (gone)
//	  │  └─(head, ready, no table)──► installed      │ └──checked err──► failed (gone)
//	  │                                             forget last export
//	  └──forget last export──► gone                  ▼
//	                                         canceled (its answer installs nothing)
//
// A check answer for a build that is not the one checking is an error and
// changes nothing (the actor ignores it); so is a build enqueued twice.
type BuildQueue struct {
	ready  bool
	builds []*queuedBuild
}

// Len returns the number of builds waiting (the one checking included).
func (q *BuildQueue) Len() int { return len(q.builds) }

// Step applies ev.
func (q *BuildQueue) Step(ev BuildEvent) (BuildEffects, error) {
	var fx BuildEffects
	switch e := ev.(type) {
	case BuildReady:
		q.ready = true
	case BuildEnqueued:
		if slices.ContainsFunc(q.builds, func(b *queuedBuild) bool { return b.key == e.Key }) {
			return fx, fmt.Errorf("build queue: build %d enqueued twice", e.Key)
		}
		q.builds = append(q.builds, &queuedBuild{key: e.Key, exports: slices.Clone(e.Exports), tables: slices.Clone(e.Tables)})
	case BuildChecked:
		if len(q.builds) == 0 || !q.builds[0].checking || q.builds[0].key != e.Key {
			return fx, fmt.Errorf("build queue: check answer for build %d, which is not being checked", e.Key)
		}
		b := q.builds[0]
		q.builds = q.builds[1:]
		switch {
		case b.canceled:
			fx.Gone = append(fx.Gone, b.key)
		case e.Err != nil:
			fx.Fail = &BuildFailure{Key: b.key, Err: e.Err}
		default:
			fx.Install = append(fx.Install, b.key)
		}
	case BuildForget:
		for i, b := range q.builds {
			j := slices.Index(b.exports, e.Export)
			if j < 0 {
				continue
			}
			b.exports = slices.Delete(b.exports, j, j+1)
			if len(b.exports) == 0 {
				if b.checking {
					b.canceled = true
				} else {
					q.builds = slices.Delete(q.builds, i, i+1)
					fx.Gone = append(fx.Gone, b.key)
				}
			}
			break
		}
	default:
		return fx, fmt.Errorf("build queue: unknown event %T", ev)
	}
	q.advance(&fx)
	return fx, nil
}

// advance starts the head build's check, installing at once the builds at
// the head that read no table.
func (q *BuildQueue) advance(fx *BuildEffects) {
	for q.ready && len(q.builds) > 0 && !q.builds[0].checking {
		b := q.builds[0]
		if len(b.tables) == 0 {
			q.builds = q.builds[1:]
			fx.Install = append(fx.Install, b.key)
			continue
		}
		b.checking = true
		fx.Check = &BuildCheck{Key: b.key, Tables: slices.Clone(b.tables)}
		return
	}
}
