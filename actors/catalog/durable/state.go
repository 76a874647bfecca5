package durable

import (
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/persistence"
)

// state is the catalog's contents at one upper: every live entry by its
// encoded key. It does no I/O. Applying updates is all or nothing.
type state struct {
	entries map[string]*entry
	// Indexes: entries by kind (whose sizes are the counts by kind), and the
	// keys of clusters and items by name (names are unique within each).
	byKind map[Kind]map[string]*entry
	names  map[Kind]map[string]string
}

func newState() *state {
	s := &state{entries: map[string]*entry{}, byKind: map[Kind]map[string]*entry{}, names: map[Kind]map[string]string{}}
	for _, k := range Kinds {
		s.byKind[k] = map[string]*entry{}
	}
	s.names[KindCluster] = map[string]string{}
	s.names[KindItem] = map[string]string{}
	return s
}

// clone returns a copy sharing the (immutable) entries.
func (s *state) clone() *state {
	c := newState()
	for k, e := range s.entries {
		c.entries[k] = e
		c.byKind[e.kind][k] = e
	}
	for kind, m := range s.names {
		for n, k := range m {
			c.names[kind][n] = k
		}
	}
	return c
}

// entryName is the unique name of a cluster or item entry ("" otherwise).
func entryName(e *entry) string {
	switch e.kind {
	case KindCluster:
		return e.value.GetCluster().GetName()
	case KindItem:
		return e.value.GetItem().GetName()
	}
	return ""
}

// fenceToken returns the durable fence token, the zero token if none.
func (s *state) fenceToken() FenceToken {
	if e, ok := s.entries[keyString(fenceTokenKey())]; ok {
		return fenceTokenFromProto(e.value.GetFenceToken())
	}
	return FenceToken{}
}

// change is one planned step of an apply: the key now holds e (nil: the key
// is removed).
type change struct {
	key string
	e   *entry
}

// plan checks that updates can be applied and returns the changes in order.
// The rules: updates are consolidated; then, time by time, retractions go
// before insertions; a retraction must match the live value byte for byte;
// an insertion needs the key to be free; every consolidated diff is ±1. Any
// violation returns an error wrapping ErrCorrupt or ErrInconsistent and
// plans nothing.
func (s *state) plan(updates []persistence.Update) ([]change, error) {
	us := persistence.ConsolidateByTime(slices.Clone(updates))
	decoded := make([]*entry, len(us))
	for i, u := range us {
		e, err := decodeUpdate(u)
		if err != nil {
			return nil, err
		}
		decoded[i] = e
	}
	return s.planDecoded(us, decoded)
}

// planDecoded is plan for consolidated updates whose entries are already
// decoded (decoded[i] is us[i]'s entry): a transaction's own updates.
func (s *state) planDecoded(us []persistence.Update, decoded []*entry) ([]change, error) {
	for i, u := range us {
		if u.Diff != 1 && u.Diff != -1 {
			e := decoded[i]
			return nil, fmt.Errorf("%w: %s entry %v at %d has diff %d, want ±1", ErrInconsistent, e.kind, e.key, u.Ts, u.Diff)
		}
	}
	// Stable sort: by time, then retractions first; within that the
	// consolidated (key, value) order stands.
	order := make([]int, len(us))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if us[a].Ts != us[b].Ts {
			if us[a].Ts < us[b].Ts {
				return -1
			}
			return 1
		}
		return int(us[a].Diff - us[b].Diff)
	})
	overlay := map[string]*entry{}
	lookup := func(k string) *entry {
		if e, ok := overlay[k]; ok {
			return e
		}
		return s.entries[k]
	}
	changes := make([]change, 0, len(us))
	for _, i := range order {
		u, e := us[i], decoded[i]
		k := string(e.keyBytes)
		live := lookup(k)
		if u.Diff < 0 {
			if live == nil {
				return nil, fmt.Errorf("%w: retraction at %d of %s entry %v, which is not in the catalog", ErrInconsistent, u.Ts, e.kind, e.key)
			}
			if string(live.valueBytes) != string(e.valueBytes) {
				return nil, fmt.Errorf("%w: retraction at %d of %s entry %v does not match its value %v", ErrInconsistent, u.Ts, e.kind, e.key, live.value)
			}
			overlay[k] = nil
			changes = append(changes, change{key: k})
			continue
		}
		if live != nil {
			return nil, fmt.Errorf("%w: insert at %d of %s entry %v over value %v that was not retracted", ErrInconsistent, u.Ts, e.kind, e.key, live.value)
		}
		overlay[k] = e
		changes = append(changes, change{key: k, e: e})
	}
	return changes, nil
}

// commit applies changes made by plan against this same state.
func (s *state) commit(changes []change) {
	for _, c := range changes {
		if old, ok := s.entries[c.key]; ok {
			delete(s.entries, c.key)
			delete(s.byKind[old.kind], c.key)
			if names := s.names[old.kind]; names != nil && names[entryName(old)] == c.key {
				delete(names, entryName(old))
			}
		}
		if c.e != nil {
			s.entries[c.key] = c.e
			s.byKind[c.e.kind][c.key] = c.e
			if names := s.names[c.e.kind]; names != nil {
				names[entryName(c.e)] = c.key
			}
		}
	}
}

// apply plans and commits updates: all or nothing.
func (s *state) apply(updates []persistence.Update) error {
	changes, err := s.plan(updates)
	if err != nil {
		return err
	}
	s.commit(changes)
	return nil
}

// countsByKind returns the number of live entries of every kind.
func (s *state) countsByKind() map[Kind]int {
	out := make(map[Kind]int, len(Kinds))
	for _, k := range Kinds {
		out[k] = len(s.byKind[k])
	}
	return out
}
