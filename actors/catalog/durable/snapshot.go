package durable

import (
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Snapshot is an immutable copy of the catalog at one upper. It is safe to
// share between goroutines. Accessors return copies the caller may keep and
// modify.
type Snapshot struct {
	v     view
	upper timely.Frontier
}

func newSnapshot(s *state, upper timely.Frontier) *Snapshot {
	return &Snapshot{v: view{base: s.clone()}, upper: upper}
}

// Upper is the catalog upper the snapshot was taken at.
func (s *Snapshot) Upper() timely.Frontier { return s.upper }

// FenceToken is the token of the catalog's latest writer (zero if none).
func (s *Snapshot) FenceToken() FenceToken { return s.v.fenceToken() }

// Cluster returns the cluster with the given id.
func (s *Snapshot) Cluster(id timely.ClusterId) (*messages.CatalogCluster, bool) {
	return s.v.cluster(id)
}

// Clusters returns every cluster, ordered by id.
func (s *Snapshot) Clusters() []*messages.CatalogCluster { return s.v.clusters() }

// Replica returns the replica with the given id.
func (s *Snapshot) Replica(id timely.ReplicaId) (*messages.CatalogReplica, bool) {
	return s.v.replica(id)
}

// Replicas returns every replica, ordered by id.
func (s *Snapshot) Replicas() []*messages.CatalogReplica { return s.v.replicas() }

// Item returns the item with the given id.
func (s *Snapshot) Item(id timely.GlobalId) (*messages.CatalogItem, bool) { return s.v.item(id) }

// Items returns every item, ordered by id.
func (s *Snapshot) Items() []*messages.CatalogItem { return s.v.items() }

// NextId returns the next id the named allocator will hand out (1 for an
// allocator never used).
func (s *Snapshot) NextId(allocator string) uint64 { return s.v.nextId(allocator) }

// Config returns an internal configuration value.
func (s *Snapshot) Config(key string) (uint64, bool) { return s.v.config(key) }

// Setting returns a system setting.
func (s *Snapshot) Setting(name string) (string, bool) { return s.v.setting(name) }

// AuditLog returns every audit event, ordered by id.
func (s *Snapshot) AuditLog() []*messages.CatalogAuditEvent { return s.v.auditLog() }

// Counts returns the number of entries of every kind.
func (s *Snapshot) Counts() map[Kind]int { return s.v.base.countsByKind() }
