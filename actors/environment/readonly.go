package environment

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/timely"
)

// Read-only mode, for zero-downtime deploys (docs/deploy.md). A node of a
// new deploy generation starts its environment with Config.ReadOnly: it
// bootstraps from the catalog (opened read-only) without changing storage,
// starts an instance per cluster with its replicas, and lets them hydrate,
// but serves no client: every client request, connects included, is
// answered UNAVAILABLE (ErrReadOnly), so clients keep to the serving
// environment. PromotionStatus says whether every replica has hydrated
// every dataflow (ready to promote). Promote, sent by the node once the
// catalog and storage were taken over, makes it serve: it reloads the
// catalog (now writable), creates what storage lacks and installs what
// the old generation added meanwhile, then answers clients.
//
// Both messages are Go structs: only the node in this process sends them.

// Promote makes a read-only environment serve. Answered with
// *PromoteResult at once; requests wait until the reload is done.
type Promote struct{}

// PromoteResult answers Promote.
type PromoteResult struct{ Err error }

// PromotionStatus asks whether the environment is ready to be promoted.
// Answered with *PromotionStatusResult.
type PromotionStatus struct{}

// PromotionStatusResult answers PromotionStatus.
type PromotionStatusResult struct {
	// ReadOnly: the environment awaits promotion.
	ReadOnly bool
	// Bootstrapped: it has loaded the catalog and started its clusters.
	Bootstrapped bool
	// Hydrated: every active replica of every cluster reports every
	// dataflow hydrated (true when there is no compute).
	Hydrated bool
	// Waiting names what is not yet there, when not Bootstrapped and
	// Hydrated.
	Waiting []string
}

// ReadyToPromote reports whether a read-only environment may be promoted
// now: bootstrapped and hydrated.
func (r *PromotionStatusResult) ReadyToPromote() bool {
	return r.ReadOnly && r.Bootstrapped && r.Hydrated
}

// refuseReadOnly answers a client request of a read-only environment and
// reports whether it did.
func (a *envActor) refuseReadOnly(ctx actor.Context, m proto.Message, sender *actor.PID) bool {
	if !a.shared.readOnly {
		return false
	}
	a.fail(ctx, m, sender, errorf(ErrReadOnly, "%s: this environment is read-only and awaits promotion; use the serving one", kindOf(m)))
	return true
}

func (a *envActor) handlePromote(ctx actor.Context) {
	if !a.shared.readOnly {
		ctx.Respond(&PromoteResult{})
		return
	}
	a.shared.readOnly = false
	a.cfg.Logger.Info("promoted: reloading the catalog and serving clients")
	// The instances started read-only: their materialized views may
	// write from now on.
	for id, pid := range a.instances {
		a.instanceCall(ctx, pid, instance.AllowWrites{}, a.logFailure("allow writes", id.String()))
	}
	ctx.Respond(&PromoteResult{})
	if a.ready {
		a.ready = false
		a.bootstrap(ctx)
	}
}

func (a *envActor) handlePromotionStatus(ctx actor.Context) {
	sender := ctx.Sender()
	res := &PromotionStatusResult{ReadOnly: a.shared.readOnly, Bootstrapped: a.ready}
	if !a.ready {
		res.Waiting = []string{"the environment is bootstrapping"}
		ctx.Respond(res)
		return
	}
	if len(a.instances) == 0 {
		res.Hydrated = true
		ctx.Respond(res)
		return
	}
	pending := len(a.instances)
	names := map[timely.ClusterId]string{}
	for _, cl := range a.core.Clusters() {
		names[cl.id] = cl.name
	}
	for id, pid := range a.instances {
		cluster := names[id]
		a.request(ctx, pid, &instance.GetDump{}, func(r any, err error) {
			pending--
			res.Waiting = append(res.Waiting, unhydrated(cluster, r, err)...)
			if pending == 0 {
				sort.Strings(res.Waiting)
				res.Hydrated = len(res.Waiting) == 0
				ctx.Send(sender, res)
			}
		})
	}
}

// unhydrated lists what of one cluster's instance dump is not hydrated: a
// replica that is not active, a dataflow not hydrated on an active
// replica. Transient dataflows (peeks, subscribes) do not count.
func unhydrated(cluster string, r any, err error) []string {
	if err != nil {
		return []string{fmt.Sprintf("cluster %s: %v", cluster, err)}
	}
	var reply instance.DumpReply
	switch x := r.(type) {
	case instance.DumpReply:
		reply = x
	case *instance.DumpReply:
		reply = *x
	default:
		return []string{fmt.Sprintf("cluster %s: instance answered %T", cluster, r)}
	}
	var d instance.Dump
	if err := json.Unmarshal(reply.JSON, &d); err != nil {
		return []string{fmt.Sprintf("cluster %s: dump: %v", cluster, err)}
	}
	var out []string
	if len(d.Replicas) == 0 {
		out = append(out, fmt.Sprintf("cluster %s: no replica", cluster))
	}
	for _, rep := range d.Replicas {
		if rep.Status != "active" {
			out = append(out, fmt.Sprintf("cluster %s: replica %s is %s", cluster, rep.Name, rep.Status))
			continue
		}
		for _, c := range rep.Collections {
			if !c.Hydrated && !strings.HasPrefix(c.Id, "t") {
				out = append(out, fmt.Sprintf("cluster %s: %s not hydrated on replica %s", cluster, c.Id, rep.Name))
			}
		}
	}
	return out
}
