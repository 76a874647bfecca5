package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/metrics"
)

// MembershipName is the name the membership actor is spawned under by
// Start.
const MembershipName = "arbor-membership"

// MembershipConfig configures the membership actor.
type MembershipConfig struct {
	// Self is this process's protoactor member id (ActorSystem.ID).
	Self string
	// Seed breaks placement ties.
	Seed uint64
	// MaxDeparted bounds the departed members the view keeps. Default
	// DefaultMaxDeparted.
	MaxDeparted int
	// OnEvicted, when set, is called once, from the actor, when the view
	// sees this process's own id leave. It must not block.
	OnEvicted func()
	// Clock stamps membership changes. Default: the real clock.
	Clock clock.Clock
	// Logger (slog.Default() when nil).
	Logger *slog.Logger
	// Registerer for the metrics; nil means unregistered.
	Registerer prometheus.Registerer
}

func (c *MembershipConfig) fill() {
	if c.Clock == nil {
		c.Clock = clock.Real()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("actor", "membership")
}

// Messages of the membership actor. All are in-process Go structs.

// Topology is one snapshot of protoactor's membership: the members its
// latest ClusterTopology lists and the ids on its block list. Start sends
// one for every ClusterTopology on the event stream. Needs no answer.
type Topology struct {
	Members []MemberInfo
	Blocked []string
}

// GetMembers asks for the view; the answer is Nodes.
type GetMembers struct{}

// Place asks for a member to run an incarnation of a replica on; the
// answer is PlaceResult. The placement is recorded at once; send Release
// if the launch fails. Avoid lists members not to choose (one that just
// failed to spawn it, but that the view still holds up).
type Place struct {
	Replica     ReplicaKey
	Incarnation uint64
	Avoid       []string
}

// PlaceResult answers Place: a placement, or ErrNoComputeMember.
type PlaceResult struct {
	Placement Placement
	Err       error
}

// Release forgets the placement of a replica's incarnation (0: whichever
// is recorded): the replica was dropped or its launch failed. Needs no
// answer.
type Release struct {
	Replica     ReplicaKey
	Incarnation uint64
}

// EndpointLost tells the membership actor that this process lost its
// connection to a remote address (protoactor's EndpointTerminatedEvent,
// which Start forwards): a member there is suspect until EndpointUp names
// the address again. Placement avoids suspect members while another
// compute member is up, so a replica whose node just died is not placed
// back on it before the provider notices (a spawn there would wait out
// protoactor's 2 s redial sleep). Needs no answer.
type EndpointLost struct{ Address string }

// EndpointUp tells the membership actor that a connection to an address
// was made (protoactor's EndpointConnectedEvent): it is no longer
// suspect. Needs no answer.
type EndpointUp struct{ Address string }

// Subscribe asks for MemberLeft and Evicted notices to be sent to PID until
// Unsubscribe. Needs no answer.
type Subscribe struct{ PID *actor.PID }

// Unsubscribe ends a Subscribe. Needs no answer.
type Unsubscribe struct{ PID *actor.PID }

// MemberLeft tells a subscriber that a member left (or was blocked) and
// which placements went with it: their runtimes are gone or cut off. The
// instance learns the same from its runtime's watch (Terminated); this
// notice says which node it was, for logs and the dump.
type MemberLeft struct {
	Member string
	Failed []Placement
}

// Evicted tells a subscriber that this process's own member id left: the
// cluster will not admit it again; the node must rejoin as a new member.
type Evicted struct{ Member string }

type membershipMetrics struct {
	up       prometheus.Gauge
	departed prometheus.Counter
	rejoins  prometheus.Counter
	failed   prometheus.Counter
}

// NewMembership returns the props of the membership actor: Arbor's
// membership view and placer (Core), fed Topology snapshots. It fails when
// its metrics cannot be registered.
func NewMembership(cfg MembershipConfig) (*actor.Props, error) {
	cfg.fill()
	m := membershipMetrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbor_cluster_members_up", Help: "Cluster members up in this node's view.",
		}),
		departed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbor_cluster_members_departed_total", Help: "Cluster members seen leaving or blocked.",
		}),
		rejoins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbor_cluster_rejoins_refused_total", Help: "Departed member ids reported up again, refused.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbor_cluster_placements_failed_total", Help: "Replica placements lost with the member they were on.",
		}),
	}
	var err error
	if m.up, err = metrics.Register(cfg.Registerer, m.up); err != nil {
		return nil, fmt.Errorf("membership metrics: %w", err)
	}
	if err := metrics.Into(cfg.Registerer, &m.departed, &m.rejoins, &m.failed); err != nil {
		return nil, fmt.Errorf("membership metrics: %w", err)
	}
	unhandled, err := surface.NewUnhandled("membership", cfg.Logger, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	allow, err := surface.AllowRemote(surface.AllowConfig{Actor: "membership", Logger: cfg.Logger, Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	// The view survives a restart of the actor: it is what protoactor
	// told, and protoactor does not tell it again.
	core := NewCore(cfg.Self, cfg.Seed, cfg.MaxDeparted)
	return actor.PropsFromProducer(func() actor.Actor {
		return &membership{cfg: cfg, core: core, metrics: m, unhandled: unhandled, subscribers: map[string]*actor.PID{}, suspect: map[string]bool{}}
	}, actor.WithReceiverMiddleware(allow)), nil
}

type membership struct {
	// constant after start
	cfg       MembershipConfig
	metrics   membershipMetrics
	unhandled *surface.Unhandled

	// guarded by the actor
	core        *Core
	subscribers map[string]*actor.PID
	evicted     bool
	// suspect: addresses whose endpoint this process lost (EndpointLost)
	suspect map[string]bool
}

func (a *membership) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.metrics.up.Set(float64(len(a.core.View().Up())))
	case Topology:
		a.handleTopology(ctx, msg)
	case GetMembers:
		ctx.Respond(a.core.Nodes())
	case Place:
		a.handlePlace(ctx, msg)
	case Release:
		a.core.Release(msg.Replica, msg.Incarnation)
	case EndpointLost:
		// Only members' addresses are kept (clients come and go too);
		// a topology change drops the addresses no member up has.
		if !a.suspect[msg.Address] && slices.ContainsFunc(a.core.View().Up(), func(m MemberInfo) bool { return m.Address == msg.Address }) {
			a.cfg.Logger.Info("endpoint lost; its member is avoided for placement", "address", msg.Address)
			a.suspect[msg.Address] = true
		}
	case EndpointUp:
		delete(a.suspect, msg.Address)
	case Subscribe:
		if msg.PID != nil {
			a.subscribers[msg.PID.String()] = msg.PID
		}
	case Unsubscribe:
		if msg.PID != nil {
			delete(a.subscribers, msg.PID.String())
		}
	default:
		a.unhandled.Handle(ctx)
	}
}

func (a *membership) handleTopology(ctx actor.Context, t Topology) {
	ch := a.core.Observe(t.Members, t.Blocked, a.cfg.Clock.Now())
	for _, ev := range ch.Events {
		switch e := ev.(type) {
		case EvJoined:
			a.cfg.Logger.Info("member up", "member", e.Member.ID, "name", e.Member.Name, "address", e.Member.Address, "roles", e.Member.Roles)
		case EvLeft:
			a.metrics.departed.Inc()
			a.cfg.Logger.Info("member left", "member", e.ID)
		case EvBlocked:
			a.cfg.Logger.Debug("member blocked", "member", e.ID)
		}
	}
	for _, err := range ch.Rejected {
		a.metrics.rejoins.Inc()
		a.cfg.Logger.Warn("departed member reported up again; refused", "error", err)
	}
	// One notice per member that took placements with it.
	byMember := map[string][]Placement{}
	for _, pl := range ch.Failed {
		byMember[pl.Member] = append(byMember[pl.Member], pl)
	}
	for _, member := range slices.Sorted(maps.Keys(byMember)) {
		failed := byMember[member]
		a.metrics.failed.Add(float64(len(failed)))
		a.cfg.Logger.Warn("member left with replicas placed on it", "member", member, "replicas", len(failed))
		a.notify(ctx, MemberLeft{Member: member, Failed: failed})
	}
	if ch.Evicted && !a.evicted {
		a.evicted = true
		a.cfg.Logger.Warn("this node's member id left the cluster; it must rejoin as a new member", "member", a.cfg.Self)
		a.notify(ctx, Evicted{Member: a.cfg.Self})
		if a.cfg.OnEvicted != nil {
			a.cfg.OnEvicted()
		}
	}
	up := a.core.View().Up()
	for addr := range a.suspect {
		if !slices.ContainsFunc(up, func(m MemberInfo) bool { return m.Address == addr }) {
			delete(a.suspect, addr)
		}
	}
	a.metrics.up.Set(float64(len(up)))
}

func (a *membership) handlePlace(ctx actor.Context, p Place) {
	avoid := p.Avoid
	for _, m := range a.core.View().Up() {
		if a.suspect[m.Address] {
			avoid = append(avoid, m.ID)
		}
	}
	pl, err := a.core.Place(p.Replica, p.Incarnation, avoid...)
	if errors.Is(err, ErrNoComputeMember) && len(avoid) > len(p.Avoid) {
		// Only suspect members are left: a lost endpoint may be a blip,
		// so try them rather than fail.
		pl, err = a.core.Place(p.Replica, p.Incarnation, p.Avoid...)
	}
	if err == nil {
		a.cfg.Logger.Info("replica placed", "replica", p.Replica.String(), "incarnation", p.Incarnation, "member", pl.Member, "address", pl.Address)
	}
	ctx.Respond(PlaceResult{Placement: pl, Err: err})
}

func (a *membership) notify(ctx actor.Context, msg any) {
	for _, key := range slices.Sorted(maps.Keys(a.subscribers)) {
		ctx.Send(a.subscribers[key], msg)
	}
}
