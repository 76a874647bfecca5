package instance

import (
	"testing"
	"time"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestStatusErrorsInDumpAndMetrics: a replica's status error about a
// collection shows on that collection in the dump and is counted by
// replica, collection and code; the replica stays active.
func TestStatusErrorsInDumpAndMetrics(t *testing.T) {
	r := newRig(t, func(timely.ReplicaId, uint64) behavior {
		return behavior{statusErr: messages.ErrorToWire(messages.ErrInternal), statusOn: true}
	}, 2)
	r.ok(AddReplica{Id: r1, Name: "r1"})
	r.createIndex()
	testkit.Eventually(t, func() bool {
		rd := r.replica(r1)
		return rd.StatusErrors == 1 && len(rd.Collections) == 1 && rd.Collections[0].LastError != ""
	}, wait, "the collection's error in the dump")
	if rd := r.replica(r1); rd.Status != "active" || rd.StatusError != "" {
		t.Fatalf("a collection's error fails nothing else: %+v", rd)
	}
	if v, ok := metricValue(r.reg, "arbor_compute_replica_status_errors_total", index.String()); !ok || v != 1 {
		t.Fatalf("arbor_compute_replica_status_errors_total{collection=%s} = %v (%t), want 1", index, v, ok)
	}
}

// TestLostSubscriptionFailsTheReplica: a runtime-level UNAVAILABLE status
// error (a runtime that lost its change-data subscription for good) fails
// the replica, which restarts at a new incarnation; the error is in the
// dump and counted.
func TestLostSubscriptionFailsTheReplica(t *testing.T) {
	r := newRig(t, func(_ timely.ReplicaId, inc uint64) behavior {
		if inc == 1 {
			return behavior{statusErr: messages.ErrorToWire(messages.ErrUnavailable)}
		}
		return behavior{}
	}, 2)
	r.ok(AddReplica{Id: r1, Name: "r1"})
	r.createIndex()
	testkit.Eventually(t, func() bool { return r.replica(r1).Status == "failed" }, wait, "replica failed")
	if rd := r.replica(r1); rd.LastError == "" || rd.StatusErrors != 1 {
		t.Fatalf("dump of the failed replica: %+v", rd)
	}
	if v, ok := metricValue(r.reg, "arbor_compute_replica_status_errors_total", "UNAVAILABLE"); !ok || v != 1 {
		t.Fatalf("arbor_compute_replica_status_errors_total{code=UNAVAILABLE} = %v (%t), want 1", v, ok)
	}
	r.clk.Advance(2 * time.Second)
	testkit.Eventually(t, func() bool {
		rd := r.replica(r1)
		return rd.Status == "active" && rd.Incarnation == 2
	}, wait, "replica restarted at incarnation 2")
	r.expectCommand(r1, 2, "create_dataflow")
}
