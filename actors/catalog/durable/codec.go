package durable

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
)

// entry is one decoded catalog entry. Entries are immutable once built: the
// state, snapshots and transactions share them.
type entry struct {
	kind  Kind
	key   *messages.CatalogKey
	value *messages.CatalogValue
	// keyBytes and valueBytes are the exact bytes stored in the shard; a
	// retraction must carry the same value bytes.
	keyBytes, valueBytes []byte
}

var marshal = proto.MarshalOptions{Deterministic: true}

// newEntry encodes key and value into an entry, checking that they agree.
func newEntry(key *messages.CatalogKey, value *messages.CatalogValue) (*entry, error) {
	kind, err := checkEntry(key, value)
	if err != nil {
		return nil, err
	}
	kb, err := marshal.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("%w: encode %s key: %v", ErrInvalid, kind, err)
	}
	vb, err := marshal.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("%w: encode %s value: %v", ErrInvalid, kind, err)
	}
	return &entry{kind: kind, key: key, value: value, keyBytes: kb, valueBytes: vb}, nil
}

// decodeUpdate decodes one shard update into an entry. Errors wrap
// ErrCorrupt and name the problem.
func decodeUpdate(u persistence.Update) (*entry, error) {
	key := &messages.CatalogKey{}
	if err := proto.Unmarshal(u.Key, key); err != nil {
		return nil, fmt.Errorf("%w: key %x at %d does not decode: %v", ErrCorrupt, u.Key, u.Ts, err)
	}
	value := &messages.CatalogValue{}
	if err := proto.Unmarshal(u.Value, value); err != nil {
		return nil, fmt.Errorf("%w: value of key %x at %d does not decode: %v", ErrCorrupt, u.Key, u.Ts, err)
	}
	kind, err := checkEntry(key, value)
	if err != nil {
		return nil, fmt.Errorf("%w: update at %d: %v", ErrCorrupt, u.Ts, err)
	}
	return &entry{kind: kind, key: key, value: value, keyBytes: u.Key, valueBytes: u.Value}, nil
}

// keyKind returns the kind of a key, or 0 when no known kind is set.
func keyKind(k *messages.CatalogKey) Kind {
	switch k.GetKind().(type) {
	case *messages.CatalogKey_Cluster:
		return KindCluster
	case *messages.CatalogKey_Replica:
		return KindReplica
	case *messages.CatalogKey_Item:
		return KindItem
	case *messages.CatalogKey_IdAllocator:
		return KindIdAllocator
	case *messages.CatalogKey_Config:
		return KindConfig
	case *messages.CatalogKey_Setting:
		return KindSetting
	case *messages.CatalogKey_AuditLog:
		return KindAuditLog
	case *messages.CatalogKey_FenceToken:
		return KindFenceToken
	}
	return 0
}

// valueKind returns the kind of a value, or 0 when no known kind is set.
func valueKind(v *messages.CatalogValue) Kind {
	switch v.GetKind().(type) {
	case *messages.CatalogValue_Cluster:
		return KindCluster
	case *messages.CatalogValue_Replica:
		return KindReplica
	case *messages.CatalogValue_Item:
		return KindItem
	case *messages.CatalogValue_IdAllocator:
		return KindIdAllocator
	case *messages.CatalogValue_Config:
		return KindConfig
	case *messages.CatalogValue_Setting:
		return KindSetting
	case *messages.CatalogValue_AuditLog:
		return KindAuditLog
	case *messages.CatalogValue_FenceToken:
		return KindFenceToken
	}
	return 0
}

// checkEntry checks that key and value are of one known kind and that the
// identity the value repeats is the key's.
func checkEntry(key *messages.CatalogKey, value *messages.CatalogValue) (Kind, error) {
	kk, vk := keyKind(key), valueKind(value)
	switch {
	case kk == 0:
		return 0, fmt.Errorf("unknown catalog entry kind in key %v", key)
	case vk == 0:
		return 0, fmt.Errorf("unknown catalog entry kind in value of %s key", kk)
	case kk != vk:
		return 0, fmt.Errorf("%s key holds a %s value", kk, vk)
	}
	same := true
	switch kk {
	case KindCluster:
		k, v := key.GetCluster().GetId(), value.GetCluster().GetId()
		same = k != nil && v != nil && k.GetKind() == v.GetKind() && k.GetValue() == v.GetValue()
	case KindReplica:
		k, v := key.GetReplica().GetId(), value.GetReplica().GetId()
		same = k != nil && v != nil && k.GetKind() == v.GetKind() && k.GetValue() == v.GetValue()
	case KindItem:
		k, v := key.GetItem().GetId(), value.GetItem().GetId()
		same = k != nil && v != nil && k.GetKind() == v.GetKind() && k.GetValue() == v.GetValue()
	case KindIdAllocator:
		same = key.GetIdAllocator().GetName() == value.GetIdAllocator().GetName()
	case KindConfig:
		same = key.GetConfig().GetKey() == value.GetConfig().GetKey()
	case KindSetting:
		same = key.GetSetting().GetName() == value.GetSetting().GetName()
	case KindAuditLog:
		same = key.GetAuditLog().GetId() == value.GetAuditLog().GetId()
	}
	if !same {
		return 0, fmt.Errorf("%s key %v and value %v name different objects", kk, key, value)
	}
	return kk, nil
}

// Keys of each kind, built the one way the catalog writes them.

func clusterKey(id *messages.ClusterId) *messages.CatalogKey {
	return &messages.CatalogKey{Kind: &messages.CatalogKey_Cluster{Cluster: &messages.CatalogClusterKey{Id: id}}}
}

func replicaKey(id *messages.ReplicaId) *messages.CatalogKey {
	return &messages.CatalogKey{Kind: &messages.CatalogKey_Replica{Replica: &messages.CatalogReplicaKey{Id: id}}}
}

func itemKey(id *messages.GlobalId) *messages.CatalogKey {
	return &messages.CatalogKey{Kind: &messages.CatalogKey_Item{Item: &messages.CatalogItemKey{Id: id}}}
}

func idAllocatorKey(name string) *messages.CatalogKey {
	return &messages.CatalogKey{Kind: &messages.CatalogKey_IdAllocator{IdAllocator: &messages.CatalogIdAllocatorKey{Name: name}}}
}

func configKey(key string) *messages.CatalogKey {
	return &messages.CatalogKey{Kind: &messages.CatalogKey_Config{Config: &messages.CatalogConfigKey{Key: key}}}
}

func settingKey(name string) *messages.CatalogKey {
	return &messages.CatalogKey{Kind: &messages.CatalogKey_Setting{Setting: &messages.CatalogSettingKey{Name: name}}}
}

func auditLogKey(id uint64) *messages.CatalogKey {
	return &messages.CatalogKey{Kind: &messages.CatalogKey_AuditLog{AuditLog: &messages.CatalogAuditLogKey{Id: id}}}
}

func fenceTokenKey() *messages.CatalogKey {
	return &messages.CatalogKey{Kind: &messages.CatalogKey_FenceToken{FenceToken: &messages.CatalogFenceTokenKey{}}}
}

// keyString is the map key of an encoded catalog key.
func keyString(k *messages.CatalogKey) string {
	b, err := marshal.Marshal(k)
	if err != nil {
		// Keys are built from well-formed messages by this package.
		panic(fmt.Sprintf("catalog: encode key %v: %v", k, err))
	}
	return string(b)
}
