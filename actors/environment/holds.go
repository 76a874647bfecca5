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

// Storage read holds the environment takes, and how none outlives what
// needed it. Every hold's id starts with the incarnation's prefix
// "env<epoch>/" (holdPrefix; the epoch is newer for every start of the
// actor and every writable open of the catalog):
//
//	env<epoch>/<cluster>/i<gen>/h<hold>  an instance's hold (compute.go); gen
//	                                    numbers the cluster's instances of
//	                                    this incarnation, so a replaced
//	                                    instance's late changes never touch
//	                                    its successor's holds
//	env<epoch>/peek/<uuid>               a transient peek's tables (compute_peek.go)
//	env<epoch>/import/<reader>/<view>    a reader's bridge (import_hold.go)
//
// Storage releases a hold when its owner terminates, but the actor's PID
// survives a restart by its supervisor, so
//
//   - Stopping and Restarting release the holds of the incarnation's own
//     work: the bridges and the acquires still unanswered (a pending
//     peek's hold goes when the next incarnation answers it);
//   - the instances' holds are taken over: they keep the tables' sinces
//     where they were while the next incarnation's instances choose their
//     as_ofs from storage's frontiers and take their own holds (released
//     first, compaction could pass those as_ofs before the new holds
//     land). Once a bootstrap's installs are done and every dataflow has
//     caught up past its as_of (sweepWhenInstalled), a tick lists
//     storage's "env" holds and releases those the actor owns that the
//     incarnation does not know under another prefix (sweepStaleHolds):
//     the last incarnation's, and any whose release was lost. Holds of
//     other owners (an environment of another deploy generation) are not
//     touched.
//   - An instance that failed and is replaced leaves its holds the same
//     way (retireInstance): they are released at that sweep, not at once.
//     A dropped cluster's instance releases its holds at once.
//   - A sweep waits at most Config.HoldTakeover: a cluster without a
//     running replica never catches up.
//
// A node restart loses every hold (storage keeps them in memory): the
// new environment's instances take theirs again.

// holdPrefix is the prefix of this incarnation's storage holds.
func (a *envActor) holdPrefix() string { return fmt.Sprintf("env%d/", a.epoch) }

// instanceHoldId names the storage hold of a read hold of the instance
// spawned with epoch and gen.
func instanceHoldId(epoch uint64, cluster timely.ClusterId, gen uint64, hold uint64) string {
	return fmt.Sprintf("env%d/%s/i%d/h%d", epoch, cluster, gen, hold)
}

// releaseHolds releases the storage holds of the incarnation's own work
// (bridges, unanswered acquires), not the instances'; called when the
// actor stops or restarts.
func (a *envActor) releaseHolds(ctx actor.Context) {
	for _, h := range a.importHolds {
		a.releaseImportHold(ctx, h)
	}
	var ids []string
	for h := range a.bridgeWaiters {
		ids = append(ids, h)
	}
	a.bridgeWaiters = map[string]bridgeWaiter{}
	for h := range a.holdWaiters {
		ids = append(ids, h)
	}
	slices.Sort(ids)
	for _, h := range ids {
		ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: h})
	}
}

// sweepStaleHolds releases the storage holds this actor owns that an
// earlier incarnation took: an "env" id without this incarnation's prefix
// that the incarnation does not know (an instance spawned before a resync
// that changed the epoch keeps its holds). Best effort: a failed list is
// tried again at the next bootstrap.
func (a *envActor) sweepStaleHolds(ctx actor.Context) {
	self := ctx.Self()
	owner := self.GetAddress() + "/" + self.GetId()
	prefix := a.holdPrefix()
	a.request(ctx, a.cfg.Storage, &messages.StorageListReadHolds{Prefix: "env"}, func(res any, err error) {
		r, ok := res.(*messages.StorageListReadHoldsResponse)
		if err != nil || !ok || r.GetError() != nil {
			a.cfg.Logger.Warn("cannot list storage's read holds to release those an earlier start left", "error", err)
			return
		}
		for _, h := range r.GetHolds() {
			id := h.GetHoldId()
			if h.GetOwner() != owner || strings.HasPrefix(id, prefix) || h.GetSubscription() || a.knowsHold(id) {
				continue
			}
			a.cfg.Logger.Info("releasing a storage read hold an earlier start left", "hold", id)
			ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: id})
		}
	})
}

// knowsHold reports whether storage hold id is one this incarnation holds
// or is acquiring. A hold is recorded before its acquire is sent, so a
// hold storage lists is either known here or was released since or is an
// earlier incarnation's.
func (a *envActor) knowsHold(id string) bool {
	for _, held := range a.holds {
		if held[id] {
			return true
		}
	}
	if _, ok := a.bridgeWaiters[id]; ok {
		return true
	}
	if _, ok := a.holdWaiters[id]; ok {
		return true
	}
	for _, h := range a.importHolds {
		if slices.Contains(h.holds, id) {
			return true
		}
	}
	for _, p := range a.core.AllPeeks() {
		if p.storageHold == id {
			return true
		}
	}
	return false
}

// dueSweep asks for a sweep once the dataflows caught up, or by
// Config.HoldTakeover from now.
func (a *envActor) dueSweep() {
	a.sweepDue = true
	a.sweepBy = a.cfg.Clock.Now().Add(a.cfg.HoldTakeover)
}

// sweep releases the replaced instances' holds and those an earlier
// incarnation left.
func (a *envActor) sweep(ctx actor.Context) {
	a.sweepDue = false
	slices.Sort(a.retired)
	for _, h := range a.retired {
		ctx.Request(a.cfg.Storage, &messages.StorageReleaseReadHold{HoldId: h})
	}
	a.retired = nil
	a.sweepStaleHolds(ctx)
}

// sweepWhenInstalled sweeps once the installs in flight are done and
// every dataflow of every instance has caught up past its as_of (the
// instances' dumps say so): until then a replica may still read the
// history the old holds keep, at as_ofs chosen while they held it. At
// sweepBy it sweeps anyway. Called at every tick; at most one round of
// dumps in flight.
func (a *envActor) sweepWhenInstalled(ctx actor.Context, now time.Time) {
	if !a.sweepDue || a.sweepChecking {
		return
	}
	if len(a.instances) == 0 || !now.Before(a.sweepBy) {
		a.sweep(ctx)
		return
	}
	if len(a.installing) > 0 {
		return
	}
	a.sweepChecking = true
	waiting, caughtUp := len(a.instances), true
	for _, pid := range a.instances {
		a.request(ctx, pid, instance.GetDump{}, func(res any, err error) {
			r, ok := res.(instance.DumpReply)
			var d instance.Dump
			if err != nil || !ok || json.Unmarshal(r.JSON, &d) != nil {
				caughtUp = false
			}
			for _, c := range d.Collections {
				if c.Storage || c.Dropped || c.AsOf == "" {
					continue
				}
				if asOf, ok := frontierTime(c.AsOf); ok && !pastAsOf(c.Upper, asOf) {
					caughtUp = false
				}
			}
			if waiting--; waiting > 0 {
				return
			}
			a.sweepChecking = false
			if caughtUp && a.sweepDue {
				a.sweep(ctx)
			}
		})
	}
}

// frontierTime parses a dumped frontier ("[5]"); ok is false for the
// empty frontier ("[]") or a malformed one.
func frontierTime(frontier string) (timely.Timestamp, bool) {
	inner := strings.TrimSuffix(strings.TrimPrefix(frontier, "["), "]")
	t, err := strconv.ParseUint(inner, 10, 64)
	return timely.Timestamp(t), err == nil
}
