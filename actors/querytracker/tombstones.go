package querytracker

import (
	"slices"
	"time"

	"github.com/arbor-db/arbor/timely"
)

// DefaultTombstoneTTL is how long a dropped cluster or collection is
// remembered when TrackerConfig.TombstoneTTL is zero.
const DefaultTombstoneTTL = 60 * time.Second

// tombstone remembers one drop until expires (exclusive).
type tombstone struct {
	name    string
	expires time.Time
}

// tombstones remember recently dropped clusters and collections, so that a
// TrackPeek that arrives after its cluster or a dependency was dropped is
// canceled at once instead of waiting for a notification that never comes.
//
// They expire opportunistically: every command calls expire first, which
// costs one comparison unless the earliest expiry has passed.
type tombstones struct {
	ttl         time.Duration
	clusters    map[timely.ClusterId]tombstone
	collections map[timely.GlobalId]tombstone
	// next is the earliest expiry of any tombstone; zero when there are none.
	next time.Time
}

func newTombstones(ttl time.Duration) *tombstones {
	if ttl <= 0 {
		ttl = DefaultTombstoneTTL
	}
	return &tombstones{
		ttl:         ttl,
		clusters:    map[timely.ClusterId]tombstone{},
		collections: map[timely.GlobalId]tombstone{},
	}
}

// len is the number of live tombstones.
func (ts *tombstones) len() int { return len(ts.clusters) + len(ts.collections) }

// add records drops at now; a repeated drop renews the tombstone's TTL and
// takes the newer name.
func (ts *tombstones) add(now time.Time, clusters map[timely.ClusterId]string, collections map[timely.GlobalId]string) {
	expires := now.Add(ts.ttl)
	for id, name := range clusters {
		ts.clusters[id] = tombstone{name: name, expires: expires}
	}
	for id, name := range collections {
		ts.collections[id] = tombstone{name: name, expires: expires}
	}
	if ts.len() > 0 && (ts.next.IsZero() || expires.Before(ts.next)) {
		ts.next = expires
	}
}

// expire forgets every tombstone whose expiry is not after now and returns
// how many it forgot.
func (ts *tombstones) expire(now time.Time) int {
	if ts.next.IsZero() || now.Before(ts.next) {
		return 0
	}
	n := 0
	next := time.Time{}
	keep := func(expires time.Time) bool {
		if !now.Before(expires) {
			n++
			return false
		}
		if next.IsZero() || expires.Before(next) {
			next = expires
		}
		return true
	}
	for id, t := range ts.clusters {
		if !keep(t.expires) {
			delete(ts.clusters, id)
		}
	}
	for id, t := range ts.collections {
		if !keep(t.expires) {
			delete(ts.collections, id)
		}
	}
	ts.next = next
	return n
}

// hit returns the display name of the first dropped thing a peek touches:
// its cluster, else its first dropped dependency in id order (dependsOn is
// sorted).
func (ts *tombstones) hit(cluster timely.ClusterId, dependsOn []timely.GlobalId) (string, bool) {
	if t, ok := ts.clusters[cluster]; ok {
		return t.name, true
	}
	for _, id := range dependsOn {
		if t, ok := ts.collections[id]; ok {
			return t.name, true
		}
	}
	return "", false
}

// TombstoneInfo is one tombstone as Dump shows it.
type TombstoneInfo struct {
	Kind    string    `json:"kind"` // "cluster" or "collection"
	Id      string    `json:"id"`
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
}

// list returns the tombstones ordered by kind then id.
func (ts *tombstones) list() []TombstoneInfo {
	out := make([]TombstoneInfo, 0, ts.len())
	for id, t := range ts.clusters {
		out = append(out, TombstoneInfo{Kind: "cluster", Id: id.String(), Name: t.name, Expires: t.expires})
	}
	for id, t := range ts.collections {
		out = append(out, TombstoneInfo{Kind: "collection", Id: id.String(), Name: t.name, Expires: t.expires})
	}
	slices.SortFunc(out, func(a, b TombstoneInfo) int {
		if a.Kind != b.Kind {
			if a.Kind < b.Kind {
				return -1
			}
			return 1
		}
		if len(a.Id) != len(b.Id) {
			return len(a.Id) - len(b.Id)
		}
		if a.Id < b.Id {
			return -1
		} else if a.Id > b.Id {
			return 1
		}
		return 0
	})
	return out
}

// check verifies that next bounds every expiry from below.
func (ts *tombstones) check() bool {
	ok := true
	see := func(e time.Time) { ok = ok && !ts.next.IsZero() && !e.Before(ts.next) }
	for _, t := range ts.clusters {
		see(t.expires)
	}
	for _, t := range ts.collections {
		see(t.expires)
	}
	return ok
}
