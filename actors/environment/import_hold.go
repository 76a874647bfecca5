package environment

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Storage holds that bridge a reader's creation. A dataflow that reads a
// materialized view M of its own cluster is held at the instance on M's
// sink export (holdLocalViews), but that hold is not a storage hold on M's
// collection: between choosing the reader's as_of and its runtime taking
// its own import hold, storage could compact M's collection past the
// as_of and the reader's backfill would fail. So before the dataflow is
// created the environment takes a storage read hold on each such
// collection at the as_of ("env<epoch>/import/<reader>/<view>"; if
// storage already compacted past it, a stale poll, storage holds at the
// since instead, at_least, and the as_of moves there), and keeps it until
// the instance reports the reader's upper past the as_of: by then a
// replica has built the reader, so its runtime's own import hold exists
// (the runtime takes it before it subscribes). A reader that is dropped,
// or whose instance stopped, releases it at the next tick; the actor
// releases them all when it stops or restarts. An acquire storage does not
// answer within CallTimeout fails the reader's creation (TIMEOUT) at a
// tick.

// bridgeWaiter continues a creation once storage answers its bridge hold.
type bridgeWaiter struct {
	deadline time.Time
	answer   func(*messages.StorageReadHoldResponse)
}

// importHold is the bridge of one reader.
type importHold struct {
	reader  timely.GlobalId
	cluster timely.ClusterId
	asOf    timely.Timestamp
	holds   []string
	// checking: a dump of the instance is on its way.
	checking bool
}

// holdViewCollections takes storage holds on the collections of views at
// at (or later, see above) for reader, and calls cont with the as_of they
// hold and keep: keep(true) once the reader's dataflow exists (the holds
// are released when the reader has caught up), keep(false) to release
// them now. Without views it calls cont at once.
func (a *envActor) holdViewCollections(ctx actor.Context, reader timely.GlobalId, cluster timely.ClusterId, views []timely.GlobalId, at timely.Timestamp, cont func(asOf timely.Timestamp, keep func(bool), err error)) {
	if len(views) == 0 {
		cont(at, func(bool) {}, nil)
		return
	}
	var held []string
	release := func() {
		for _, h := range held {
			ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: h})
		}
		held = nil
	}
	keep := func(ok bool) {
		if !ok {
			release()
			return
		}
		if a.importHolds == nil {
			a.importHolds = map[timely.GlobalId]*importHold{}
		}
		if old := a.importHolds[reader]; old != nil {
			a.releaseImportHold(ctx, old)
		}
		a.importHolds[reader] = &importHold{reader: reader, cluster: cluster, asOf: at, holds: held}
	}
	var next func(i int)
	next = func(i int) {
		if i == len(views) {
			cont(at, keep, nil)
			return
		}
		h := fmt.Sprintf("env%d/import/%s/%s", a.epoch, reader, views[i])
		// at_least: storage holds at the since when it compacted past at
		// (a stale poll), in one step, and answers where. Sent from the
		// actor, not a future: storage watches a hold's sender and releases
		// its holds when it terminates (a future ends at once).
		ctx.Request(a.cfg.Storage, &messages.StorageAcquireReadHold{HoldId: h, Tables: []*messages.GlobalId{messages.FromGlobalId(views[i])}, At: uint64(at), AtLeast: true})
		a.bridgeWaiters[h] = bridgeWaiter{deadline: a.cfg.Clock.Now().Add(a.cfg.CallTimeout), answer: func(r *messages.StorageReadHoldResponse) {
			if err := storageError(r.GetError()); err != nil {
				release()
				cont(0, func(bool) {}, fmt.Errorf("hold materialized view %s in storage at %d: %w", views[i], at, err))
				return
			}
			held = append(held, h)
			// A later hold only makes the as_of later: the earlier holds,
			// at or before it, still keep it readable.
			at = max(at, timely.Timestamp(r.GetAt()))
			next(i + 1)
		}}
	}
	next(0)
}

// bridgeAnswered continues the creation waiting for hold m answers, and
// reports whether there was one.
func (a *envActor) bridgeAnswered(m *messages.StorageReadHoldResponse) bool {
	w, ok := a.bridgeWaiters[m.GetHoldId()]
	if !ok {
		return false
	}
	delete(a.bridgeWaiters, m.GetHoldId())
	w.answer(m)
	return true
}

// expireBridgeWaiters fails the bridge holds storage has not answered by
// their deadline, releasing what a late answer would have held.
func (a *envActor) expireBridgeWaiters(ctx actor.Context, now time.Time) {
	var late []string
	for h, w := range a.bridgeWaiters {
		if !now.Before(w.deadline) {
			late = append(late, h)
		}
	}
	slices.Sort(late)
	for _, h := range late {
		w := a.bridgeWaiters[h]
		delete(a.bridgeWaiters, h)
		ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: h})
		err := withCode(messages.ErrorCode_ERROR_CODE_TIMEOUT, fmt.Errorf("storage did not answer read hold %s within %s", h, a.cfg.CallTimeout))
		w.answer(&messages.StorageReadHoldResponse{HoldId: h, Error: messages.ErrorToWire(err)})
	}
}

// checkImportHolds releases the bridges whose reader caught up, was
// dropped or lost its instance: one instance dump per cluster with
// bridges, at most one in flight each; and expires unanswered bridge
// acquires. Called at every tick.
func (a *envActor) checkImportHolds(ctx actor.Context, now time.Time) {
	a.expireBridgeWaiters(ctx, now)
	byCluster := map[timely.ClusterId][]*importHold{}
	for _, h := range a.importHolds {
		if _, running := a.instances[h.cluster]; !running || !a.installed[h.reader] {
			a.releaseImportHold(ctx, h)
			continue
		}
		if !h.checking {
			byCluster[h.cluster] = append(byCluster[h.cluster], h)
		}
	}
	for cid, hs := range byCluster {
		for _, h := range hs {
			h.checking = true
		}
		a.request(ctx, a.instances[cid], instance.GetDump{}, func(res any, err error) {
			for _, h := range hs {
				h.checking = false
			}
			r, ok := res.(instance.DumpReply)
			if err != nil || !ok {
				return // the next tick asks again
			}
			var d instance.Dump
			if json.Unmarshal(r.JSON, &d) != nil {
				return
			}
			uppers := map[string]string{}
			for _, c := range d.Collections {
				uppers[c.Id] = c.Upper
			}
			for _, h := range hs {
				if a.importHolds[h.reader] != h {
					continue // released or replaced meanwhile
				}
				upper, listed := uppers[h.reader.String()]
				if !listed || pastAsOf(upper, h.asOf) {
					a.releaseImportHold(ctx, h)
				}
			}
		})
	}
}

// pastAsOf reports whether a dumped frontier ("[5]", "[]") is past asOf.
func pastAsOf(frontier string, asOf timely.Timestamp) bool {
	inner := strings.TrimSuffix(strings.TrimPrefix(frontier, "["), "]")
	if inner == "" {
		return true // closed
	}
	t, err := strconv.ParseUint(inner, 10, 64)
	return err == nil && timely.Timestamp(t) > asOf
}

// releaseImportHold releases a bridge's storage holds.
func (a *envActor) releaseImportHold(ctx actor.Context, h *importHold) {
	for _, id := range h.holds {
		ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: id})
	}
	if a.importHolds[h.reader] == h {
		delete(a.importHolds, h.reader)
	}
}
