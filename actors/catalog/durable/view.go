package durable

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// view reads the catalog: a base state plus, for a transaction, an overlay
// of pending changes (a nil entry in the overlay is a pending removal).
type view struct {
	base    *state
	overlay map[string]*entry
}

func (v *view) lookup(key *messages.CatalogKey) *entry {
	k := keyString(key)
	if e, ok := v.overlay[k]; ok {
		return e
	}
	return v.base.entries[k]
}

// each calls fn for every live entry of kind, in no particular order.
func (v *view) each(kind Kind, fn func(*entry)) {
	for k, e := range v.base.byKind[kind] {
		if _, ok := v.overlay[k]; ok {
			continue
		}
		fn(e)
	}
	for _, e := range v.overlay {
		if e != nil && e.kind == kind {
			fn(e)
		}
	}
}

// byName returns the live cluster or item entry called name, if any.
func (v *view) byName(kind Kind, name string) *entry {
	for _, e := range v.overlay {
		if e != nil && e.kind == kind && entryName(e) == name {
			return e
		}
	}
	k, ok := v.base.names[kind][name]
	if !ok {
		return nil
	}
	if _, shadowed := v.overlay[k]; shadowed {
		// Changed or removed in the overlay, which was searched above.
		return nil
	}
	return v.base.entries[k]
}

func cloneOf[T proto.Message](m T) T { return proto.Clone(m).(T) }

func idLess(ak, bk messages.IdKind, av, bv uint64) int {
	if c := cmp.Compare(ak, bk); c != 0 {
		return c
	}
	return cmp.Compare(av, bv)
}

func (v *view) fenceToken() FenceToken {
	if e := v.lookup(fenceTokenKey()); e != nil {
		return fenceTokenFromProto(e.value.GetFenceToken())
	}
	return FenceToken{}
}

func (v *view) cluster(id timely.ClusterId) (*messages.CatalogCluster, bool) {
	if e := v.lookup(clusterKey(messages.FromClusterId(id))); e != nil {
		return cloneOf(e.value.GetCluster()), true
	}
	return nil, false
}

func (v *view) clusters() []*messages.CatalogCluster {
	var out []*messages.CatalogCluster
	v.each(KindCluster, func(e *entry) { out = append(out, cloneOf(e.value.GetCluster())) })
	slices.SortFunc(out, func(a, b *messages.CatalogCluster) int {
		return idLess(a.GetId().GetKind(), b.GetId().GetKind(), a.GetId().GetValue(), b.GetId().GetValue())
	})
	return out
}

func (v *view) replica(id timely.ReplicaId) (*messages.CatalogReplica, bool) {
	if e := v.lookup(replicaKey(messages.FromReplicaId(id))); e != nil {
		return cloneOf(e.value.GetReplica()), true
	}
	return nil, false
}

func (v *view) replicas() []*messages.CatalogReplica {
	var out []*messages.CatalogReplica
	v.each(KindReplica, func(e *entry) { out = append(out, cloneOf(e.value.GetReplica())) })
	slices.SortFunc(out, func(a, b *messages.CatalogReplica) int {
		return idLess(a.GetId().GetKind(), b.GetId().GetKind(), a.GetId().GetValue(), b.GetId().GetValue())
	})
	return out
}

func (v *view) item(id timely.GlobalId) (*messages.CatalogItem, bool) {
	if e := v.lookup(itemKey(messages.FromGlobalId(id))); e != nil {
		return cloneOf(e.value.GetItem()), true
	}
	return nil, false
}

func (v *view) items() []*messages.CatalogItem {
	var out []*messages.CatalogItem
	v.each(KindItem, func(e *entry) { out = append(out, cloneOf(e.value.GetItem())) })
	slices.SortFunc(out, func(a, b *messages.CatalogItem) int {
		return idLess(a.GetId().GetKind(), b.GetId().GetKind(), a.GetId().GetValue(), b.GetId().GetValue())
	})
	return out
}

func (v *view) nextId(allocator string) uint64 {
	if e := v.lookup(idAllocatorKey(allocator)); e != nil {
		return e.value.GetIdAllocator().GetNextId()
	}
	return 1
}

func (v *view) config(key string) (uint64, bool) {
	if e := v.lookup(configKey(key)); e != nil {
		return e.value.GetConfig().GetValue(), true
	}
	return 0, false
}

func (v *view) setting(name string) (string, bool) {
	if e := v.lookup(settingKey(name)); e != nil {
		return e.value.GetSetting().GetValue(), true
	}
	return "", false
}

func (v *view) auditLog() []*messages.CatalogAuditEvent {
	var out []*messages.CatalogAuditEvent
	v.each(KindAuditLog, func(e *entry) { out = append(out, cloneOf(e.value.GetAuditLog())) })
	slices.SortFunc(out, func(a, b *messages.CatalogAuditEvent) int { return cmp.Compare(a.GetId(), b.GetId()) })
	return out
}
