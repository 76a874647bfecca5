package instance_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/instance"
	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// collectionUpper returns a storage collection's upper.
func (r *rig) collectionUpper(id timely.GlobalId) timely.Timestamp {
	r.t.Helper()
	res, err := r.sys.Root.RequestFuture(r.storage, &messages.StorageFrontiers{Tables: []*messages.GlobalId{messages.FromGlobalId(id)}}, wait).Result()
	require.NoError(r.t, err)
	fr := res.(*messages.StorageFrontiersResponse)
	require.Nil(r.t, fr.GetError())
	require.Len(r.t, fr.GetTables(), 1)
	f, err := fr.GetTables()[0].GetUpper().ToTimely()
	require.NoError(r.t, err)
	t, ok := f.Time()
	require.True(r.t, ok)
	return t
}

// waitCollection waits until collection id's upper passed t.
func (r *rig) waitCollection(id timely.GlobalId, t timely.Timestamp) {
	r.t.Helper()
	r.eventually(func() bool { return r.collectionUpper(id) > t }, "collection %s's upper passes %d", id, t)
}

// checkCollection reads collection id from storage at each time and
// compares it with the oracle: a range appended twice or never shows as a
// wrong multiplicity.
func (r *rig) checkCollection(id timely.GlobalId, ts ...timely.Timestamp) {
	r.t.Helper()
	for _, t := range ts {
		at := uint64(t)
		res, err := r.sys.Root.RequestFuture(r.storage, &messages.StorageSnapshot{Tables: []*messages.GlobalId{messages.FromGlobalId(id)}, AsOf: &at}, wait).Result()
		require.NoError(r.t, err)
		snap := res.(*messages.StorageSnapshotResponse)
		require.Nil(r.t, snap.GetError(), "snapshot of %s at %d", id, t)
		var rows []dataflow.Row
		for _, tc := range snap.GetTables() {
			for _, rd := range tc.GetRows() {
				row, err := dataflow.RowFromWire(rd.GetRow())
				require.NoError(r.t, err)
				require.Positive(r.t, rd.GetDiff(), "%s at %d: multiplicity of %s", id, t, row)
				for i := int64(0); i < rd.GetDiff(); i++ {
					rows = append(rows, row)
				}
			}
		}
		require.Equal(r.t, r.oracle(id, t), rowStrings(rows), "collection %s at %d", id, t)
	}
}

// sharedMetrics returns a Configure that gives every runtime the same
// registry (so their sink counters add up), and a function reading the
// sink appends by outcome.
func sharedMetrics(t *testing.T) (func(timely.ReplicaId, uint64, *runtime.Config), func() map[string]float64) {
	reg := prometheus.NewRegistry()
	configure := func(_ timely.ReplicaId, _ uint64, cfg *runtime.Config) { cfg.Registerer = reg }
	read := func() map[string]float64 {
		out := map[string]float64{}
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() != "arbor_runtime_sink_appends_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				out[m.GetLabel()[0].GetValue()] += m.GetCounter().GetValue()
			}
		}
		return out
	}
	return configure, read
}

// TestMaterializedViewCollectionWithRacingReplicas: two replicas compute
// the same materialized view and both append it to its storage
// collection. Whatever the interleaving, and when one runtime is killed
// mid-way and comes back as a new incarnation, and when the other replica
// is removed, the collection equals the oracle at every written time:
// no range doubled, none lost.
func TestMaterializedViewCollectionWithRacingReplicas(t *testing.T) {
	r := newRig(t, rigOptions{})
	configure, appends := sharedMetrics(t)
	r.addLocal(r1, configure)
	r.addLocal(r2, configure)
	r.createTable(orders, ordersSchema)
	r.createTable(customers, customersSchema)
	r.createDataflow(perCustomer, reduceP(getP(orders), []int{1}, agg(sumW, 2), agg(cntW, -1)), true, []timely.GlobalId{orders})

	ts := r.workload(21, 15)
	r.waitHydrated(r1, 1)
	r.waitHydrated(r2, 1)
	r.waitCollection(perCustomer, ts[len(ts)-1])

	// Kill r1's runtime while both append; write meanwhile.
	require.NoError(t, r.sys.Root.StopFuture(r.l.current(r1).pid).Wait())
	ts = append(ts, r.workload(22, 15)...)
	r.waitHydrated(r1, 2)
	r.waitCollection(perCustomer, ts[len(ts)-1])

	// Remove r2: r1 alone keeps the collection going.
	r.ok(instance.RemoveReplica{Id: r2})
	ts = append(ts, r.workload(23, 10)...)
	r.waitCollection(perCustomer, ts[len(ts)-1])

	r.checkCollection(perCustomer, ts...)
	// How the races went varies from run to run; the contents may not.
	t.Logf("sink appends by outcome: %v", appends())
	// The instance's peek (served from the replicas' arrangements) agrees.
	last := ts[len(ts)-1]
	got, err := r.peek(perCustomer, last, nil)
	require.NoError(t, err)
	require.Equal(t, r.oracle(perCustomer, last), got)
}

// TestMaterializedViewCollectionAfterBothReplicasRestart: every runtime of
// the cluster is killed; the new incarnations start from the collection's
// upper and the collection stays equal to the oracle.
func TestMaterializedViewCollectionAfterBothReplicasRestart(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.addLocal(r1, nil)
	r.addLocal(r2, slowBy(r2, 1, 5*time.Millisecond))
	r.createTable(orders, ordersSchema)
	r.createTable(customers, customersSchema)
	r.createDataflow(perCustomer, reduceP(getP(orders), []int{1}, agg(sumW, 2), agg(cntW, -1)), true, []timely.GlobalId{orders})
	ts := r.workload(31, 10)
	r.waitHydrated(r1, 1)
	r.waitCollection(perCustomer, ts[len(ts)-1])

	require.NoError(t, r.sys.Root.StopFuture(r.l.current(r1).pid).Wait())
	require.NoError(t, r.sys.Root.StopFuture(r.l.current(r2).pid).Wait())
	ts = append(ts, r.workload(32, 10)...)
	r.waitHydrated(r1, 2)
	r.waitHydrated(r2, 2)
	r.waitCollection(perCustomer, ts[len(ts)-1])
	r.checkCollection(perCustomer, ts...)
}
