package durable_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func TestEveryDDLChangeIsAudited(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		w := e.mustOpen(durable.Writable, 1)
		tx, err := w.Transaction(e.ctx)
		require.NoError(t, err)
		require.NoError(t, tx.CreateCluster(cluster(1, "compute")))
		require.NoError(t, tx.CreateReplica(&messages.CatalogReplica{
			Id: messages.FromReplicaId(timely.ReplicaId{Kind: timely.User, Value: 1}), ClusterId: cluster(1, "").GetId(), Name: "r1", Size: "small",
		}))
		require.NoError(t, tx.CreateItem(table(1, "t")))
		view := &messages.CatalogItem{Id: messages.FromGlobalId(timely.UserId(2)), Name: "v", Type: messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW,
			DependsOn: []*messages.GlobalId{messages.FromGlobalId(timely.UserId(1))}}
		require.NoError(t, tx.CreateItem(view))
		require.NoError(t, tx.SetSetting("statement_timeout", "10s"))
		require.NoError(t, tx.SetConfig("not_ddl", 7))
		_, err = tx.Commit(e.ctx)
		require.NoError(t, err)

		e.clock.Advance(time.Second)
		tx, err = w.Transaction(e.ctx)
		require.NoError(t, err)
		view.Name = "v2"
		require.NoError(t, tx.AlterItem(view))
		require.NoError(t, tx.DropItem(timely.UserId(2)))
		require.NoError(t, tx.DropCluster(timely.ClusterId{Kind: timely.User, Value: 1}))
		require.NoError(t, tx.ResetSetting("statement_timeout"))
		_, err = tx.Commit(e.ctx)
		require.NoError(t, err)

		snap, err := w.Snapshot(e.ctx)
		require.NoError(t, err)
		type ev struct {
			typ  messages.CatalogAuditEventType
			obj  messages.CatalogAuditObjectType
			id   string
			name string
		}
		const (
			create = messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_CREATE
			drop   = messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_DROP
			alter  = messages.CatalogAuditEventType_CATALOG_AUDIT_EVENT_TYPE_ALTER
			cl     = messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_CLUSTER
			re     = messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_REPLICA
			it     = messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_ITEM
			se     = messages.CatalogAuditObjectType_CATALOG_AUDIT_OBJECT_TYPE_SETTING
		)
		want := []ev{
			{create, cl, "u1", "compute"}, {create, re, "u1", "r1"}, {create, it, "u1", "t"}, {create, it, "u2", "v"},
			{alter, se, "statement_timeout", "statement_timeout"},
			{alter, it, "u2", "v2"}, {drop, it, "u2", "v2"}, {drop, re, "u1", "r1"}, {drop, cl, "u1", "compute"},
			{drop, se, "statement_timeout", "statement_timeout"},
		}
		log := snap.AuditLog()
		require.Len(t, log, len(want))
		start := uint64(e.clock.Now().Add(-time.Second).UnixMilli())
		for i, w := range want {
			got := log[i]
			require.Equal(t, uint64(i+1), got.GetId())
			require.Equal(t, w, ev{got.GetEventType(), got.GetObjectType(), got.GetObjectId(), got.GetName()}, "event %d", i)
			require.Equal(t, int64(1), got.GetWriter().GetEpoch())
			if i < 5 {
				require.Equal(t, start, got.GetOccurredAtMillis())
			} else {
				require.Equal(t, start+1000, got.GetOccurredAtMillis())
			}
		}
		require.Equal(t, uint64(len(want)+1), snap.NextId(durable.AuditLogAllocator))
		require.Empty(t, snap.Clusters())
		require.Empty(t, snap.Replicas())
		require.Len(t, snap.Items(), 1)
		v, ok := snap.Config("not_ddl")
		require.True(t, ok)
		require.Equal(t, uint64(7), v)
	})
}

func TestIdAllocation(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		w := e.mustOpen(durable.Writable, 1)
		first, err := w.AllocateIds(e.ctx, "user", 3)
		require.NoError(t, err)
		require.Equal(t, uint64(1), first)
		first, err = w.AllocateIds(e.ctx, "user", 2)
		require.NoError(t, err)
		require.Equal(t, uint64(4), first)
		first, err = w.AllocateIds(e.ctx, "system", 1)
		require.NoError(t, err)
		require.Equal(t, uint64(1), first, "allocators are independent")
		_, err = w.AllocateIds(e.ctx, "user", 0)
		require.ErrorIs(t, err, durable.ErrInvalid)

		// Ids survive a takeover: the next writer continues.
		w2 := e.mustOpen(durable.Writable, 1)
		first, err = w2.AllocateIds(e.ctx, "user", 1)
		require.NoError(t, err)
		require.Equal(t, uint64(6), first)
	})
}

func TestTransactionValidation(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		w := e.mustOpen(durable.Writable, 1)
		require.NoError(t, createCluster(t, e.ctx, w, 1, "c1"))
		tx, err := w.Transaction(e.ctx)
		require.NoError(t, err)
		cid := timely.ClusterId{Kind: timely.User, Value: 1}

		require.ErrorIs(t, tx.CreateCluster(cluster(1, "other")), durable.ErrAlreadyExists)
		require.ErrorIs(t, tx.CreateCluster(cluster(2, "c1")), durable.ErrAlreadyExists)
		require.ErrorIs(t, tx.CreateCluster(cluster(2, " ")), durable.ErrInvalid)
		require.ErrorIs(t, tx.CreateCluster(&messages.CatalogCluster{Name: "noid"}), durable.ErrInvalid)
		require.ErrorIs(t, tx.DropCluster(timely.ClusterId{Kind: timely.User, Value: 9}), durable.ErrNotFound)
		require.ErrorIs(t, tx.CreateReplica(&messages.CatalogReplica{
			Id: messages.FromReplicaId(timely.ReplicaId{Kind: timely.User, Value: 1}), ClusterId: cluster(9, "").GetId(), Name: "r",
		}), durable.ErrNotFound)
		require.ErrorIs(t, tx.CreateItem(&messages.CatalogItem{Id: messages.FromGlobalId(timely.UserId(1)), Name: "x"}), durable.ErrInvalid)
		require.ErrorIs(t, tx.CreateItem(&messages.CatalogItem{Id: messages.FromGlobalId(timely.TransientId(1)), Name: "x", Type: messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW}), durable.ErrInvalid)
		dangling := table(2, "v")
		dangling.DependsOn = []*messages.GlobalId{messages.FromGlobalId(timely.UserId(77))}
		require.ErrorIs(t, tx.CreateItem(dangling), durable.ErrNotFound)

		idx := &messages.CatalogItem{Id: messages.FromGlobalId(timely.UserId(1)), Name: "idx", Type: messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX, ClusterId: messages.FromClusterId(cid)}
		require.NoError(t, tx.CreateItem(idx))
		require.ErrorIs(t, tx.DropCluster(cid), durable.ErrInUse)
		dep := table(2, "dep")
		dep.DependsOn = []*messages.GlobalId{idx.GetId()}
		require.NoError(t, tx.CreateItem(dep))
		require.ErrorIs(t, tx.DropItem(timely.UserId(1)), durable.ErrInUse)
		require.ErrorIs(t, tx.AlterItem(table(3, "nope")), durable.ErrNotFound)
		require.ErrorIs(t, tx.ResetSetting("nope"), durable.ErrNotFound)
		_, err = tx.Commit(e.ctx)
		require.NoError(t, err)
		require.ErrorIs(t, tx.CreateItem(table(5, "late")), durable.ErrTransactionDone)

		snap, err := w.Snapshot(e.ctx)
		require.NoError(t, err)
		require.Len(t, snap.Items(), 2)
		require.Equal(t, map[durable.Kind]int{
			durable.KindCluster: 1, durable.KindReplica: 0, durable.KindItem: 2, durable.KindIdAllocator: 1,
			durable.KindConfig: 0, durable.KindSetting: 0, durable.KindAuditLog: 3, durable.KindFenceToken: 1,
		}, snap.Counts())
	})
}
