package cluster

import (
	"errors"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestPlaceWithoutComputeMember checks the error's code survives the wire:
// a caller on another node still sees UNAVAILABLE.
func TestPlaceWithoutComputeMember(t *testing.T) {
	p := NewPlacer(1)
	key := ReplicaKey{Cluster: timely.ClusterId{Kind: timely.User, Value: 1}, Replica: timely.ReplicaId{Kind: timely.User, Value: 1}}
	for _, candidates := range [][]MemberInfo{nil, {{ID: "a", Roles: []string{RoleEnvironment}}}} {
		_, err := p.Place(key, 1, candidates)
		if !errors.Is(err, ErrNoComputeMember) || !errors.Is(err, messages.ErrUnavailable) {
			t.Fatalf("place among %v: %v", candidates, err)
		}
		back := messages.ErrorFromWire(messages.ErrorToWire(err))
		if !errors.Is(back, messages.ErrUnavailable) {
			t.Fatalf("over the wire: %v", back)
		}
	}
	if len(p.Placements()) != 0 {
		t.Fatalf("a failed placement was recorded: %v", p.Placements())
	}
}

// TestPlaceSpreadsReplicas checks, for every cluster size up to the number
// of compute members, that the replicas of one cluster land on distinct
// members whatever the seed.
func TestPlaceSpreadsReplicas(t *testing.T) {
	members := []MemberInfo{
		{ID: "m1", Roles: []string{RoleCompute}},
		{ID: "m2", Roles: []string{RoleCompute, RoleEnvironment}},
		{ID: "m3", Roles: []string{RoleCompute}},
		{ID: "m4", Roles: []string{RoleEnvironment}},
	}
	for seed := uint64(0); seed < 50; seed++ {
		p := NewPlacer(seed)
		// Another cluster's replica first, so that load is uneven.
		if _, err := p.Place(ReplicaKey{Cluster: timely.ClusterId{Kind: timely.User, Value: 9}, Replica: timely.ReplicaId{Kind: timely.User, Value: 1}}, 1, members); err != nil {
			t.Fatal(err)
		}
		used := map[string]bool{}
		for r := uint64(1); r <= 3; r++ {
			pl, err := p.Place(ReplicaKey{Cluster: timely.ClusterId{Kind: timely.User, Value: 1}, Replica: timely.ReplicaId{Kind: timely.User, Value: r}}, 1, members)
			if err != nil {
				t.Fatal(err)
			}
			if pl.Member == "m4" || used[pl.Member] {
				t.Fatalf("seed %d: replica %d placed on %s; placements %v", seed, r, pl.Member, p.Placements())
			}
			used[pl.Member] = true
		}
	}
}
