package node

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
)

// The monitor is the node's own actor, spawned at the root beside the node
// guardian. It watches the guardian (its termination, unless the node is
// stopping, halts the node) and probes subsystems for readiness: every
// probeInterval on the node's clock it sends each probed subsystem its status
// request, and records the answer. It never waits: a subsystem that does not
// answer is caught by the probe deadline in readiness.verdict.
//
// Its messages are local Go structs; it accepts nothing from remote senders.

// monitorName is the monitor's name at the root.
const monitorName = "node-monitor"

// probeTarget is a subsystem the monitor probes.
type probeTarget struct {
	name    string
	pid     *actor.PID
	request any
	// judge reads an answer: ok is false when the message is not an
	// answer to this target's request.
	judge func(answer any) (healthy bool, detail string, ok bool)
}

// The probes of the other subsystems live beside their wiring:
// storageProbe (storage.go) and clusterProbe (compute.go). The query
// tracker and the replicas host are not probed (they do no I/O); only
// their stop is reported. ENVIRONMENT: the environment's probe goes here
// or beside its wiring, once it exists.

// catalogProbe probes the catalog guardian with GetStatus: ready only in
// PhaseReady.
func catalogProbe(pid *actor.PID) probeTarget {
	return probeTarget{name: SubsystemCatalog, pid: pid, request: &catalog.GetStatus{}, judge: judgeCatalogStatus}
}

func judgeCatalogStatus(answer any) (bool, string, bool) {
	st, ok := answer.(*catalog.Status)
	switch {
	case !ok:
		return false, "", false
	case st.Phase == catalog.PhaseReady:
		return true, "", true
	case st.Err != nil:
		return false, fmt.Sprintf("%s: %v", st.Phase, st.Err), true
	case st.LastFailure != nil:
		return false, fmt.Sprintf("%s after %d failures, the last: %v", st.Phase, st.Failures, st.LastFailure), true
	}
	return false, st.Phase.String(), true
}

// addProbe adds a subsystem to probe.
type addProbe struct{ target probeTarget }

// probeTick is the monitor's own tick.
type probeTick struct{ now time.Time }

type monitorConfig struct {
	clock    clock.Clock
	ready    *readiness
	guardian *actor.PID
	// guardianGone is called once, from the monitor, when the guardian
	// has terminated for any reason.
	guardianGone func()
	logger       *slog.Logger
	registerer   prometheus.Registerer
}

type monitor struct {
	cfg       monitorConfig
	unhandled *surface.Unhandled
	targets   []probeTarget
	loop      *clock.Loop // the probe ticks; owned, stopped in Stopping
}

func newMonitor(cfg monitorConfig) (*actor.Props, error) {
	unhandled, err := surface.NewUnhandled(monitorName, cfg.logger, cfg.registerer)
	if err != nil {
		return nil, err
	}
	allow, err := surface.AllowRemote(surface.AllowConfig{Actor: monitorName, Logger: cfg.logger, Registerer: cfg.registerer})
	if err != nil {
		return nil, err
	}
	return actor.PropsFromProducer(func() actor.Actor { return &monitor{cfg: cfg, unhandled: unhandled} },
		actor.WithReceiverMiddleware(allow)), nil
}

func (m *monitor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		ctx.Watch(m.cfg.guardian)
		self, root := ctx.Self(), ctx.ActorSystem().Root
		m.loop = clock.Every(m.cfg.clock, probeInterval, func(now time.Time) { root.Send(self, &probeTick{now: now}) })
	case *actor.Stopping, *actor.Restarting:
		m.loop.Stop()
	case *addProbe:
		m.targets = append(m.targets, msg.target)
	case *probeTick:
		m.handleProbeTick(ctx, msg)
	case *actor.Terminated:
		if msg.Who.Equal(m.cfg.guardian) {
			m.cfg.guardianGone()
		}
	case *actor.DeadLetterResponse:
		for _, t := range m.targets {
			if t.pid.Equal(msg.Target) {
				m.cfg.ready.probeAnswered(t.name, false, "not running")
			}
		}
	default:
		for _, t := range m.targets {
			if healthy, detail, ok := t.judge(msg); ok {
				m.cfg.ready.probeAnswered(t.name, healthy, detail)
				return
			}
		}
		m.unhandled.Handle(ctx)
	}
}

// handleProbeTick probes every target that has no probe outstanding; one
// that has keeps it, so a blocked subsystem's mailbox does not fill with
// probes.
func (m *monitor) handleProbeTick(ctx actor.Context, tick *probeTick) {
	for _, t := range m.targets {
		if m.cfg.ready.probeSent(t.name, tick.now) {
			ctx.Request(t.pid, t.request)
		}
	}
}
