package durable

import "fmt"

// Kind is the kind of a catalog entry, one per CatalogKey/CatalogValue
// oneof case.
type Kind int

const (
	// KindCluster is a compute cluster.
	KindCluster Kind = iota + 1
	// KindReplica is a replica of a cluster.
	KindReplica
	// KindItem is a table, view, index or materialized view.
	KindItem
	// KindIdAllocator is the next id of a named allocator.
	KindIdAllocator
	// KindConfig is an internal configuration value.
	KindConfig
	// KindSetting is a user-visible system setting.
	KindSetting
	// KindAuditLog is one audit-log event.
	KindAuditLog
	// KindFenceToken is the fence token of the latest writer.
	KindFenceToken
)

// Kinds lists every kind in order.
var Kinds = []Kind{KindCluster, KindReplica, KindItem, KindIdAllocator, KindConfig, KindSetting, KindAuditLog, KindFenceToken}

// String returns the kind's name as used in metrics labels ("cluster",
// "id_allocator", ...).
func (k Kind) String() string {
	switch k {
	case KindCluster:
		return "cluster"
	case KindReplica:
		return "replica"
	case KindItem:
		return "item"
	case KindIdAllocator:
		return "id_allocator"
	case KindConfig:
		return "config"
	case KindSetting:
		return "setting"
	case KindAuditLog:
		return "audit_log"
	case KindFenceToken:
		return "fence_token"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}
