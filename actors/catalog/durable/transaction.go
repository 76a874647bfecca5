package durable

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// AuditLogAllocator is the id allocator the catalog draws audit-event ids
// from.
const AuditLogAllocator = "audit_log"

// Transaction is a set of typed catalog changes begun from the handle's
// state at one upper and committed all at once by compare-and-append at that
// upper. Reads through the transaction see its own pending changes. Every
// DDL change (create, drop or alter of a cluster, replica, item or setting)
// adds an audit-log event in the same commit.
//
// A transaction belongs to one goroutine and must not be used concurrently
// with its handle. Operations return errors wrapping ErrInvalid,
// ErrNotFound, ErrAlreadyExists or ErrInUse and leave the transaction as it
// was; the transaction stays usable.
type Transaction struct {
	h     *Handle
	upper timely.Frontier
	v     view
	// writer is the token recorded in audit events; now their time.
	writer FenceToken
	now    time.Time
	done   bool
}

func (tx *Transaction) check() error {
	if tx.done {
		return ErrTransactionDone
	}
	return nil
}

func (tx *Transaction) put(key *messages.CatalogKey, value *messages.CatalogValue) error {
	e, err := newEntry(key, value)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	tx.v.overlay[string(e.keyBytes)] = e
	return nil
}

func (tx *Transaction) remove(key *messages.CatalogKey) {
	tx.v.overlay[keyString(key)] = nil
}

// Upper is the catalog upper the transaction began at.
func (tx *Transaction) Upper() timely.Frontier { return tx.upper }

// IsEmpty reports whether the transaction would write nothing.
func (tx *Transaction) IsEmpty() bool {
	for k, neu := range tx.v.overlay {
		if changed(tx.v.base.entries[k], neu) {
			return false
		}
	}
	return true
}

// changed reports whether a key's pending entry neu differs from its base
// entry old (nil: absent).
func changed(old, neu *entry) bool {
	if old == nil || neu == nil {
		return old != neu
	}
	return string(old.valueBytes) != string(neu.valueBytes)
}

// updates turns the pending changes into shard updates at time ts, and
// their entries: retract the old value, insert the new one, skip unchanged
// keys.
func (tx *Transaction) updates(ts timely.Timestamp) ([]persistence.Update, []*entry) {
	keys := make([]string, 0, len(tx.v.overlay))
	for k := range tx.v.overlay {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []persistence.Update
	var entries []*entry
	for _, k := range keys {
		old, neu := tx.v.base.entries[k], tx.v.overlay[k]
		if !changed(old, neu) {
			continue
		}
		if old != nil {
			out = append(out, persistence.Update{Key: old.keyBytes, Value: old.valueBytes, Ts: ts, Diff: -1})
			entries = append(entries, old)
		}
		if neu != nil {
			out = append(out, persistence.Update{Key: neu.keyBytes, Value: neu.valueBytes, Ts: ts, Diff: 1})
			entries = append(entries, neu)
		}
	}
	return out, entries
}

// Commit makes the transaction durable (in memory only for a Savepoint
// handle) and returns the catalog's new upper. See Handle.Commit for the
// errors. After Commit the transaction is done, whatever the outcome.
func (tx *Transaction) Commit(ctx context.Context) (timely.Frontier, error) {
	if err := tx.check(); err != nil {
		return timely.Frontier{}, err
	}
	tx.done = true
	return tx.h.commit(ctx, tx)
}

// Abort discards the transaction.
func (tx *Transaction) Abort() { tx.done = true }

// audit records one DDL change.
func (tx *Transaction) audit(ev messages.CatalogAuditEventType, obj messages.CatalogAuditObjectType, objectID, name string) error {
	id, err := tx.AllocateIds(AuditLogAllocator, 1)
	if err != nil {
		return err
	}
	e := &messages.CatalogAuditEvent{
		Id: id, EventType: ev, ObjectType: obj, ObjectId: objectID, Name: name,
		OccurredAtMillis: uint64(tx.now.UnixMilli()), Writer: tx.writer.proto(),
	}
	return tx.put(auditLogKey(id), &messages.CatalogValue{Kind: &messages.CatalogValue_AuditLog{AuditLog: e}})
}

// AllocateIds reserves n consecutive ids from the named allocator and
// returns the first. Allocators start at 1.
func (tx *Transaction) AllocateIds(allocator string, n uint64) (uint64, error) {
	if err := tx.check(); err != nil {
		return 0, err
	}
	if allocator == "" || n == 0 {
		return 0, fmt.Errorf("%w: allocate %d ids from allocator %q", ErrInvalid, n, allocator)
	}
	first := tx.v.nextId(allocator)
	if first+n < first {
		return 0, fmt.Errorf("%w: allocator %q exhausted", ErrInvalid, allocator)
	}
	v := &messages.CatalogIdAllocator{Name: allocator, NextId: first + n}
	if err := tx.put(idAllocatorKey(allocator), &messages.CatalogValue{Kind: &messages.CatalogValue_IdAllocator{IdAllocator: v}}); err != nil {
		return 0, err
	}
	return first, nil
}

// NextId returns the next id the allocator would hand out.
func (tx *Transaction) NextId(allocator string) uint64 { return tx.v.nextId(allocator) }

func validId(kind messages.IdKind) bool {
	return kind == messages.IdKind_ID_KIND_USER || kind == messages.IdKind_ID_KIND_SYSTEM
}

// Cluster returns the cluster with the given id, as the transaction sees it.
func (tx *Transaction) Cluster(id timely.ClusterId) (*messages.CatalogCluster, bool) {
	return tx.v.cluster(id)
}

// Clusters returns every cluster, ordered by id.
func (tx *Transaction) Clusters() []*messages.CatalogCluster { return tx.v.clusters() }

// CreateCluster adds a cluster. Its id and name must be unused.
func (tx *Transaction) CreateCluster(c *messages.CatalogCluster) error {
	if err := tx.check(); err != nil {
		return err
	}
	id, err := c.GetId().ToTimely()
	if err != nil || !validId(c.GetId().GetKind()) {
		return fmt.Errorf("%w: cluster %q needs a user or system id", ErrInvalid, c.GetName())
	}
	if strings.TrimSpace(c.GetName()) == "" {
		return fmt.Errorf("%w: cluster %s needs a name", ErrInvalid, id)
	}
	if _, ok := tx.v.cluster(id); ok {
		return fmt.Errorf("%w: cluster %s", ErrAlreadyExists, id)
	}
	if tx.v.byName(KindCluster, c.GetName()) != nil {
		return fmt.Errorf("%w: cluster named %q", ErrAlreadyExists, c.GetName())
	}
	if err := tx.put(clusterKey(c.GetId()), &messages.CatalogValue{Kind: &messages.CatalogValue_Cluster{Cluster: cloneOf(c)}}); err != nil {
		return err
	}
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_CREATE, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_CLUSTER, id.String(), c.GetName())
}

// DropCluster removes a cluster and its replicas. It fails with ErrInUse
// while an item is computed on the cluster.
func (tx *Transaction) DropCluster(id timely.ClusterId) error {
	if err := tx.check(); err != nil {
		return err
	}
	c, ok := tx.v.cluster(id)
	if !ok {
		return fmt.Errorf("%w: cluster %s", ErrNotFound, id)
	}
	for _, it := range tx.v.items() {
		if cid, err := it.GetClusterId().ToTimely(); err == nil && it.GetClusterId() != nil && cid == id {
			return fmt.Errorf("%w: cluster %s computes item %q", ErrInUse, id, it.GetName())
		}
	}
	for _, r := range tx.v.replicas() {
		if cid, err := r.GetClusterId().ToTimely(); err == nil && cid == id {
			rid, _ := r.GetId().ToTimely()
			if err := tx.DropReplica(rid); err != nil {
				return err
			}
		}
	}
	tx.remove(clusterKey(messages.FromClusterId(id)))
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_DROP, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_CLUSTER, id.String(), c.GetName())
}

// Replicas returns every replica, ordered by id.
func (tx *Transaction) Replicas() []*messages.CatalogReplica { return tx.v.replicas() }

// CreateReplica adds a replica to an existing cluster. Its id must be
// unused and its name unique within the cluster.
func (tx *Transaction) CreateReplica(r *messages.CatalogReplica) error {
	if err := tx.check(); err != nil {
		return err
	}
	id, err := r.GetId().ToTimely()
	if err != nil {
		return fmt.Errorf("%w: replica %q needs a user or system id", ErrInvalid, r.GetName())
	}
	if strings.TrimSpace(r.GetName()) == "" {
		return fmt.Errorf("%w: replica %s needs a name", ErrInvalid, id)
	}
	cid, err := r.GetClusterId().ToTimely()
	if err != nil {
		return fmt.Errorf("%w: replica %s needs a cluster", ErrInvalid, id)
	}
	if _, ok := tx.v.cluster(cid); !ok {
		return fmt.Errorf("%w: cluster %s of replica %s", ErrNotFound, cid, id)
	}
	if _, ok := tx.v.replica(id); ok {
		return fmt.Errorf("%w: replica %s", ErrAlreadyExists, id)
	}
	for _, o := range tx.v.replicas() {
		if o.GetName() == r.GetName() && sameCluster(o.GetClusterId(), r.GetClusterId()) {
			return fmt.Errorf("%w: replica named %q in cluster %s", ErrAlreadyExists, r.GetName(), cid)
		}
	}
	if err := tx.put(replicaKey(r.GetId()), &messages.CatalogValue{Kind: &messages.CatalogValue_Replica{Replica: cloneOf(r)}}); err != nil {
		return err
	}
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_CREATE, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_REPLICA, id.String(), r.GetName())
}

func sameCluster(a, b *messages.ClusterId) bool {
	return a.GetKind() == b.GetKind() && a.GetValue() == b.GetValue()
}

// DropReplica removes a replica.
func (tx *Transaction) DropReplica(id timely.ReplicaId) error {
	if err := tx.check(); err != nil {
		return err
	}
	r, ok := tx.v.replica(id)
	if !ok {
		return fmt.Errorf("%w: replica %s", ErrNotFound, id)
	}
	tx.remove(replicaKey(messages.FromReplicaId(id)))
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_DROP, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_REPLICA, id.String(), r.GetName())
}

// Item returns the item with the given id, as the transaction sees it.
func (tx *Transaction) Item(id timely.GlobalId) (*messages.CatalogItem, bool) { return tx.v.item(id) }

// Items returns every item, ordered by id.
func (tx *Transaction) Items() []*messages.CatalogItem { return tx.v.items() }

func (tx *Transaction) checkItem(it *messages.CatalogItem) (timely.GlobalId, error) {
	id, err := it.GetId().ToTimely()
	if err != nil || !validId(it.GetId().GetKind()) {
		return id, fmt.Errorf("%w: item %q needs a user or system id", ErrInvalid, it.GetName())
	}
	if strings.TrimSpace(it.GetName()) == "" {
		return id, fmt.Errorf("%w: item %s needs a name", ErrInvalid, id)
	}
	if it.GetType() == messages.CatalogItemType_CATALOG_ITEM_TYPE_UNSPECIFIED {
		return id, fmt.Errorf("%w: item %s (%q) has no type", ErrInvalid, id, it.GetName())
	}
	if it.GetClusterId() != nil {
		cid, err := it.GetClusterId().ToTimely()
		if err != nil {
			return id, fmt.Errorf("%w: item %s: %v", ErrInvalid, id, err)
		}
		if tx.v.lookup(clusterKey(it.GetClusterId())) == nil {
			return id, fmt.Errorf("%w: cluster %s of item %s", ErrNotFound, cid, id)
		}
	}
	for _, d := range it.GetDependsOn() {
		did, err := d.ToTimely()
		if err != nil {
			return id, fmt.Errorf("%w: item %s: dependency: %v", ErrInvalid, id, err)
		}
		if did == id {
			return id, fmt.Errorf("%w: item %s depends on itself", ErrInvalid, id)
		}
		if tx.v.lookup(itemKey(d)) == nil {
			return id, fmt.Errorf("%w: item %s depends on %s, which does not exist", ErrNotFound, id, did)
		}
	}
	if o := tx.v.byName(KindItem, it.GetName()); o != nil {
		oid := o.value.GetItem().GetId()
		if oid.GetKind() != it.GetId().GetKind() || oid.GetValue() != it.GetId().GetValue() {
			return id, fmt.Errorf("%w: item named %q", ErrAlreadyExists, it.GetName())
		}
	}
	return id, nil
}

// CreateItem adds a table, view, index or materialized view. Its id and name
// must be unused, its type set, its cluster and dependencies present.
func (tx *Transaction) CreateItem(it *messages.CatalogItem) error {
	if err := tx.check(); err != nil {
		return err
	}
	id, err := tx.checkItem(it)
	if err != nil {
		return err
	}
	if tx.v.lookup(itemKey(it.GetId())) != nil {
		return fmt.Errorf("%w: item %s", ErrAlreadyExists, id)
	}
	if err := tx.put(itemKey(it.GetId()), &messages.CatalogValue{Kind: &messages.CatalogValue_Item{Item: cloneOf(it)}}); err != nil {
		return err
	}
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_CREATE, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_ITEM, id.String(), it.GetName())
}

// AlterItem replaces an existing item (same id) with it: a rename or a new
// definition. The same checks as CreateItem apply.
func (tx *Transaction) AlterItem(it *messages.CatalogItem) error {
	if err := tx.check(); err != nil {
		return err
	}
	id, err := tx.checkItem(it)
	if err != nil {
		return err
	}
	if tx.v.lookup(itemKey(it.GetId())) == nil {
		return fmt.Errorf("%w: item %s", ErrNotFound, id)
	}
	if err := tx.put(itemKey(it.GetId()), &messages.CatalogValue{Kind: &messages.CatalogValue_Item{Item: cloneOf(it)}}); err != nil {
		return err
	}
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_ALTER, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_ITEM, id.String(), it.GetName())
}

// DropItem removes an item. It fails with ErrInUse while another item
// depends on it.
func (tx *Transaction) DropItem(id timely.GlobalId) error {
	if err := tx.check(); err != nil {
		return err
	}
	it, ok := tx.v.item(id)
	if !ok {
		return fmt.Errorf("%w: item %s", ErrNotFound, id)
	}
	for _, o := range tx.v.items() {
		for _, d := range o.GetDependsOn() {
			if did, err := d.ToTimely(); err == nil && did == id {
				return fmt.Errorf("%w: item %s (%q) is used by %q", ErrInUse, id, it.GetName(), o.GetName())
			}
		}
	}
	tx.remove(itemKey(messages.FromGlobalId(id)))
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_DROP, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_ITEM, id.String(), it.GetName())
}

// Config returns an internal configuration value.
func (tx *Transaction) Config(key string) (uint64, bool) { return tx.v.config(key) }

// SetConfig sets an internal configuration value. Config changes are not
// DDL and are not audited.
func (tx *Transaction) SetConfig(key string, value uint64) error {
	if err := tx.check(); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("%w: config needs a key", ErrInvalid)
	}
	return tx.put(configKey(key), &messages.CatalogValue{Kind: &messages.CatalogValue_Config{Config: &messages.CatalogConfig{Key: key, Value: value}}})
}

// Setting returns a system setting.
func (tx *Transaction) Setting(name string) (string, bool) { return tx.v.setting(name) }

// SetSetting sets a system setting (audited as an alter).
func (tx *Transaction) SetSetting(name, value string) error {
	if err := tx.check(); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: setting needs a name", ErrInvalid)
	}
	if err := tx.put(settingKey(name), &messages.CatalogValue{Kind: &messages.CatalogValue_Setting{Setting: &messages.CatalogSetting{Name: name, Value: value}}}); err != nil {
		return err
	}
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_ALTER, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_SETTING, name, name)
}

// ResetSetting removes a system setting (audited as a drop).
func (tx *Transaction) ResetSetting(name string) error {
	if err := tx.check(); err != nil {
		return err
	}
	if _, ok := tx.v.setting(name); !ok {
		return fmt.Errorf("%w: setting %q", ErrNotFound, name)
	}
	tx.remove(settingKey(name))
	return tx.audit(messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_DROP, messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_SETTING, name, name)
}

// AuditLog returns every audit event the transaction sees, ordered by id.
func (tx *Transaction) AuditLog() []*messages.CatalogAuditEvent { return tx.v.auditLog() }

// putRaw stages an arbitrary entry (fence token) without audit.
func (tx *Transaction) putFenceToken(t FenceToken) error {
	return tx.put(fenceTokenKey(), &messages.CatalogValue{Kind: &messages.CatalogValue_FenceToken{FenceToken: t.proto()}})
}
