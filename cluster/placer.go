package cluster

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/arbor-db/arbor/timely"
)

// ReplicaKey names one replica of one compute cluster. Replica ids are
// unique per cluster only, so placement keys carry both.
type ReplicaKey struct {
	Cluster timely.ClusterId
	Replica timely.ReplicaId
}

// String is "cluster/replica", the form the view prints.
func (k ReplicaKey) String() string { return k.Cluster.String() + "/" + k.Replica.String() }

// Placement records that one incarnation of a replica was placed on a
// member.
type Placement struct {
	Replica     ReplicaKey
	Incarnation uint64
	Member      string
	Address     string
}

// Placer chooses the compute member each replica runs on and records the
// choice. It does no I/O and reads no clock; the membership actor owns one
// and feeds it the members that are up.
//
// The rule, in order: a member with the compute role; the member holding
// the fewest replicas of the same cluster (so a cluster's replicas land on
// distinct nodes while there are enough of them); then the member holding
// the fewest replicas overall; then a tie-break by a hash of the seed, the
// replica and the member id, so that equal members are chosen the same way
// on every run with one seed but not always the first by name.
type Placer struct {
	seed       uint64
	placements map[ReplicaKey]Placement
}

// NewPlacer returns a Placer with no placements whose ties are broken by
// seed.
func NewPlacer(seed uint64) *Placer {
	return &Placer{seed: seed, placements: map[ReplicaKey]Placement{}}
}

// Place chooses a member for an incarnation of a replica among candidates
// (the members that are up; those without the compute role or named in
// avoid are skipped)
// and records it, replacing the replica's earlier placement, which does
// not count against the member it was on. It fails with
// ErrNoComputeMember when no candidate has the compute role; the earlier
// placement is then kept.
func (p *Placer) Place(key ReplicaKey, incarnation uint64, candidates []MemberInfo, avoid ...string) (Placement, error) {
	type score struct {
		m                  MemberInfo
		sameCluster, total int
		tie                uint64
	}
	var scores []score
	for _, m := range candidates {
		if !m.HasRole(RoleCompute) || slices.Contains(avoid, m.ID) {
			continue
		}
		s := score{m: m, tie: p.tie(key, m.ID)}
		for k, pl := range p.placements {
			if k == key || pl.Member != m.ID {
				continue
			}
			s.total++
			if k.Cluster == key.Cluster {
				s.sameCluster++
			}
		}
		scores = append(scores, s)
	}
	if len(scores) == 0 {
		return Placement{}, fmt.Errorf("%w: replica %s (%d members up, %d avoided)", ErrNoComputeMember, key, len(candidates), len(avoid))
	}
	best := slices.MinFunc(scores, func(a, b score) int {
		if c := cmp.Compare(a.sameCluster, b.sameCluster); c != 0 {
			return c
		}
		if c := cmp.Compare(a.total, b.total); c != 0 {
			return c
		}
		if c := cmp.Compare(a.tie, b.tie); c != 0 {
			return c
		}
		return cmp.Compare(a.m.ID, b.m.ID)
	})
	pl := Placement{Replica: key, Incarnation: incarnation, Member: best.m.ID, Address: best.m.Address}
	p.placements[key] = pl
	return pl, nil
}

// Release forgets the placement of a replica, when the replica was dropped
// or the launch of that incarnation failed. An incarnation of 0 releases
// whatever is recorded; another releases only that incarnation, so a late
// release from an older launch leaves a newer placement alone. It reports
// whether a placement was removed.
func (p *Placer) Release(key ReplicaKey, incarnation uint64) bool {
	pl, ok := p.placements[key]
	if !ok || (incarnation != 0 && pl.Incarnation != incarnation) {
		return false
	}
	delete(p.placements, key)
	return true
}

// MemberLeft forgets every placement on a member that left and returns
// them, ordered by replica: the replicas that failed with it and are to be
// placed again.
func (p *Placer) MemberLeft(member string) []Placement {
	var out []Placement
	for k, pl := range p.placements {
		if pl.Member == member {
			out = append(out, pl)
			delete(p.placements, k)
		}
	}
	slices.SortFunc(out, func(a, b Placement) int { return cmp.Compare(a.Replica.String(), b.Replica.String()) })
	return out
}

// Lookup returns the recorded placement of a replica.
func (p *Placer) Lookup(key ReplicaKey) (Placement, bool) {
	pl, ok := p.placements[key]
	return pl, ok
}

// Placements returns every recorded placement, ordered by replica.
func (p *Placer) Placements() []Placement {
	out := make([]Placement, 0, len(p.placements))
	for _, pl := range p.placements {
		out = append(out, pl)
	}
	slices.SortFunc(out, func(a, b Placement) int { return cmp.Compare(a.Replica.String(), b.Replica.String()) })
	return out
}

// Hosted returns, by member id, the replicas placed there ("cluster/replica",
// sorted): the form View.Snapshot takes.
func (p *Placer) Hosted() map[string][]string {
	out := map[string][]string{}
	for _, pl := range p.Placements() {
		out[pl.Member] = append(out[pl.Member], pl.Replica.String())
	}
	return out
}

func (p *Placer) tie(key ReplicaKey, member string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], p.seed)
	h.Write(b[:])
	h.Write([]byte(key.String()))
	h.Write([]byte{0})
	h.Write([]byte(member))
	return h.Sum64()
}
