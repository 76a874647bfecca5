package cluster

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// MemberState is where one member id stands in Arbor's view.
type MemberState uint8

const (
	// StateUp: protoactor's topology lists the member.
	StateUp MemberState = iota + 1
	// StateLeft: the member was listed and no longer is (graceful leave,
	// failed health check, expired lease). Its id never comes back.
	StateLeft
	// StateBlocked: the member is on protoactor's block list. Every member
	// that leaves ends here, since protoactor blocks each departed id.
	StateBlocked
)

// String names the state as `arborctl get nodes` prints it.
func (s MemberState) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateLeft:
		return "left"
	case StateBlocked:
		return "blocked"
	}
	return fmt.Sprintf("MemberState(%d)", uint8(s))
}

// MemberInfo is what protoactor tells about a member, decoded: its id (one
// per process start), its remote address, and the node name and roles
// Arbor publishes as cluster kinds (kinds.go).
type MemberInfo struct {
	ID      string
	Address string
	Name    string
	Roles   []string
}

// HasRole reports whether the member has the role.
func (m MemberInfo) HasRole(role string) bool { return slices.Contains(m.Roles, role) }

// Event is an input of the view's transition function.
type Event interface {
	event()
	String() string
}

// EvJoined: protoactor's topology lists the member.
type EvJoined struct {
	Member MemberInfo
	At     time.Time
}

// EvLeft: protoactor's topology no longer lists the member.
type EvLeft struct {
	ID string
	At time.Time
}

// EvBlocked: protoactor's block list names the member id.
type EvBlocked struct {
	ID string
	At time.Time
}

func (EvJoined) event()  {}
func (EvLeft) event()    {}
func (EvBlocked) event() {}

func (e EvJoined) String() string  { return "joined " + e.Member.ID }
func (e EvLeft) String() string    { return "left " + e.ID }
func (e EvBlocked) String() string { return "blocked " + e.ID }

// memberRecord is one member in the view.
type memberRecord struct {
	info    MemberInfo
	state   MemberState
	upSince time.Time
	// downAt is when the member left or was blocked, whichever came first.
	downAt time.Time
}

// View is Arbor's membership view: every member id seen since this process
// started, with its state. It does no I/O and reads no clock; the
// membership actor feeds it protoactor's topology through Observe.
//
// Departed members are kept so that the view can say who left and when,
// up to MaxDeparted of them (the oldest are forgotten first).
type View struct {
	self        string
	maxDeparted int
	members     map[string]*memberRecord
	// rejoins counts departed ids reported up again (ErrRejoin).
	rejoins int
}

// DefaultMaxDeparted is how many departed members a View keeps when
// NewView is given no positive bound.
const DefaultMaxDeparted = 64

// NewView returns an empty view for the member whose id is self (the
// process's own protoactor member id; "" when unknown).
func NewView(self string, maxDeparted int) *View {
	if maxDeparted <= 0 {
		maxDeparted = DefaultMaxDeparted
	}
	return &View{self: self, maxDeparted: maxDeparted, members: map[string]*memberRecord{}}
}

// Apply is the view's one transition function:
//
//	(absent) ──EvJoined──▶ Up ──EvLeft──▶ Left ──EvBlocked──▶ Blocked
//	    │                   │                                    ▲
//	    │                   └───────────────EvBlocked────────────┤
//	    └─────────────────────────EvBlocked──────────────────────┘
//
// EvJoined for an Up member refreshes its address, name and roles; EvLeft
// for a member already Left or Blocked and EvBlocked for a Blocked one are
// no-ops. EvJoined for a Left or Blocked member is ErrRejoin: protoactor
// never admits a departed id again (its block list never expires), so a
// restarted node has to come back under a new id; the view counts the
// report and leaves the member departed. EvLeft for an id the view never
// held is ErrUnknownMember. An error leaves the view unchanged.
func (v *View) Apply(ev Event) error {
	switch e := ev.(type) {
	case EvJoined:
		r, ok := v.members[e.Member.ID]
		switch {
		case !ok:
			v.members[e.Member.ID] = &memberRecord{info: cloneInfo(e.Member), state: StateUp, upSince: e.At}
		case r.state == StateUp:
			r.info = cloneInfo(e.Member)
		default:
			v.rejoins++
			return fmt.Errorf("%w: %s (%s since %s)", ErrRejoin, e.Member.ID, r.state, r.downAt.UTC().Format(time.RFC3339Nano))
		}
	case EvLeft:
		r, ok := v.members[e.ID]
		if !ok {
			return fmt.Errorf("%w: %s left", ErrUnknownMember, e.ID)
		}
		if r.state == StateUp {
			r.state, r.downAt = StateLeft, e.At
		}
	case EvBlocked:
		r, ok := v.members[e.ID]
		switch {
		case !ok:
			// Blocked before this view saw it up: a member another node
			// saw leave, gossiped to us.
			v.members[e.ID] = &memberRecord{info: MemberInfo{ID: e.ID}, state: StateBlocked, downAt: e.At}
		case r.state == StateUp:
			r.state, r.downAt = StateBlocked, e.At
		case r.state == StateLeft:
			r.state = StateBlocked
		}
	default:
		return fmt.Errorf("cluster: unknown view event %T", ev)
	}
	v.forgetOldest()
	return nil
}

// Observe turns one snapshot of protoactor's membership (the members its
// topology lists and the ids on its block list) into the events that bring
// the view to it, in a fixed order: joins by id, then leaves by id, then
// blocks by id. It does not apply them.
func (v *View) Observe(members []MemberInfo, blocked []string, at time.Time) []Event {
	var evs []Event
	listed := make(map[string]bool, len(members))
	for _, m := range slices.SortedFunc(slices.Values(members), func(a, b MemberInfo) int { return cmp.Compare(a.ID, b.ID) }) {
		listed[m.ID] = true
		r, ok := v.members[m.ID]
		if !ok || r.state != StateUp || !sameInfo(r.info, m) {
			evs = append(evs, EvJoined{Member: m, At: at})
		}
	}
	for _, id := range v.sortedIDs() {
		if r := v.members[id]; r.state == StateUp && !listed[id] {
			evs = append(evs, EvLeft{ID: id, At: at})
		}
	}
	for _, id := range slices.Sorted(slices.Values(blocked)) {
		if r, ok := v.members[id]; !ok || r.state != StateBlocked {
			evs = append(evs, EvBlocked{ID: id, At: at})
		}
	}
	return evs
}

// Up returns the members that are up, ordered by id.
func (v *View) Up() []MemberInfo {
	var out []MemberInfo
	for _, id := range v.sortedIDs() {
		if r := v.members[id]; r.state == StateUp {
			out = append(out, cloneInfo(r.info))
		}
	}
	return out
}

// Member returns a member by id and its state.
func (v *View) Member(id string) (MemberInfo, MemberState, bool) {
	r, ok := v.members[id]
	if !ok {
		return MemberInfo{}, 0, false
	}
	return cloneInfo(r.info), r.state, true
}

// Evicted reports whether this process's own member id has left or been
// blocked: the rest of the cluster will never admit it again, so the node
// must restart its membership under a new id (protoactor-go #1083, #1133).
func (v *View) Evicted() bool {
	r, ok := v.members[v.self]
	return ok && r.state != StateUp
}

// Rejoins counts departed ids reported up again since the view was made.
func (v *View) Rejoins() int { return v.rejoins }

// Self is the process's own member id.
func (v *View) Self() string { return v.self }

// Snapshot renders the view for `arborctl get nodes` and the dump, with
// the replicas each member hosts taken from hosted (member id → replica
// names, as Placer.Hosted returns). Up members come first, by name then
// id; departed ones follow, most recent first.
func (v *View) Snapshot(hosted map[string][]string) Nodes {
	out := Nodes{Self: v.self, Evicted: v.Evicted(), Rejoins: v.rejoins, Members: []Node{}}
	for _, r := range v.members {
		n := Node{
			ID:      r.info.ID,
			Name:    r.info.Name,
			Address: r.info.Address,
			Roles:   slices.Clone(r.info.Roles),
			State:   r.state.String(),
			Self:    r.info.ID == v.self,
		}
		if r.state == StateUp {
			t := r.upSince.UTC()
			n.UpSince = &t
		} else {
			t := r.downAt.UTC()
			n.DownAt = &t
		}
		n.Replicas = slices.Clone(hosted[r.info.ID])
		out.Members = append(out.Members, n)
	}
	slices.SortFunc(out.Members, func(a, b Node) int {
		aUp, bUp := a.State == "up", b.State == "up"
		switch {
		case aUp && !bUp:
			return -1
		case !aUp && bUp:
			return 1
		case aUp:
			if c := cmp.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		}
		if c := b.DownAt.Compare(*a.DownAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Nodes is the JSON form of the view (`arborctl get nodes`, the dump).
type Nodes struct {
	// Self is this process's member id.
	Self string `json:"self"`
	// Evicted: this process's own id has left the cluster (see
	// View.Evicted).
	Evicted bool `json:"evicted,omitempty"`
	// Rejoins counts departed ids that were reported up again.
	Rejoins int    `json:"rejoins,omitempty"`
	Members []Node `json:"members"`
}

// Node is one member in Nodes.
type Node struct {
	ID      string     `json:"id"`
	Name    string     `json:"name,omitempty"`
	Address string     `json:"address,omitempty"`
	Roles   []string   `json:"roles,omitempty"`
	State   string     `json:"state"`
	Self    bool       `json:"self,omitempty"`
	UpSince *time.Time `json:"up_since,omitempty"`
	DownAt  *time.Time `json:"down_at,omitempty"`
	// Replicas placed on the member, as "cluster/replica".
	Replicas []string `json:"replicas,omitempty"`
}

func (v *View) sortedIDs() []string {
	ids := make([]string, 0, len(v.members))
	for id := range v.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// forgetOldest drops departed members beyond maxDeparted, oldest first.
func (v *View) forgetOldest() {
	var departed []*memberRecord
	for _, r := range v.members {
		if r.state != StateUp {
			departed = append(departed, r)
		}
	}
	if len(departed) <= v.maxDeparted {
		return
	}
	slices.SortFunc(departed, func(a, b *memberRecord) int {
		if c := a.downAt.Compare(b.downAt); c != 0 {
			return c
		}
		return cmp.Compare(a.info.ID, b.info.ID)
	})
	for _, r := range departed[:len(departed)-v.maxDeparted] {
		if r.info.ID != v.self {
			delete(v.members, r.info.ID)
		}
	}
}

func cloneInfo(m MemberInfo) MemberInfo {
	m.Roles = slices.Clone(m.Roles)
	return m
}

func sameInfo(a, b MemberInfo) bool {
	return a.ID == b.ID && a.Address == b.Address && a.Name == b.Name && slices.Equal(a.Roles, b.Roles)
}
