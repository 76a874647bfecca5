package runtime_test

import (
	"context"
	"errors"
	"math/rand"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/coordinator"
	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestWorkerKilledMidBatch panics the only worker while it applies a
// Consume batch, after an earlier flow of the same batch was applied. The
// supervisor restarts it, it rebuilds every flow from its committed
// checkpoint, the coordinator backfills them, and every index is exactly
// right afterwards.
func TestWorkerKilledMidBatch(t *testing.T) {
	var armed atomic.Bool
	var panicked atomic.Int64
	target := runtime.FlowIdOf(withNames)
	hook := func(_ int, b pool.FlowBatch) {
		// One worker holds every flow; u10 and u11 precede u12 in its
		// batch, so they are applied when it dies.
		if b.Flow == target && b.Changes() > 0 && armed.CompareAndSwap(true, false) {
			panicked.Add(1)
			panic("test: worker killed in the middle of a batch")
		}
	}
	h := newHarness(t, options{workers: 1, beforeApply: hook})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	installAll(h)
	var id int64
	r := rand.New(rand.NewSource(2))
	ts := workload(h, r, 30, &id)
	armed.Store(true)
	ts = append(ts, workload(h, r, 90, &id)...)
	checkAll(h, ts, 5)
	require.EqualValues(t, 1, panicked.Load(), "the hook must have fired")
	require.EqualValues(t, 1, counterValue(t, h.reg, "arbor_pool_worker_restarts_total", ""))
}

// failingShard fails the CompareAndAppend calls for which fail says so;
// nothing is written then.
type failingShard struct {
	persistence.Shard
	calls atomic.Int64
	fail  func(call int64) bool
}

var errInjected = errors.New("test: injected commit failure")

func (s *failingShard) CompareAndAppend(ctx context.Context, ups []persistence.Update, expected, upper timely.Frontier) error {
	if s.fail(s.calls.Add(1)) {
		return errInjected
	}
	return s.Shard.CompareAndAppend(ctx, ups, expected, upper)
}

// TestViewOverViewConsistency checks that a flow reading a materialized
// view is only ever fed view output that is committed, even when commits
// of that view fail now and then, and that it matches the oracle.
func TestViewOverViewConsistency(t *testing.T) {
	var h *harness
	var viewBatches, violations atomic.Int64
	reader := runtime.FlowIdOf(bigSpenders)
	producer := runtime.FlowIdOf(perCustomer)
	hook := func(_ int, b pool.FlowBatch) {
		us := b.Updates[perCustomer]
		if b.Flow != reader || len(us) == 0 {
			return
		}
		viewBatches.Add(1)
		st, err := coordinator.OpenShardStore(context.Background(), h.outputs, nil)
		if err != nil {
			violations.Add(1)
			return
		}
		cps, _ := st.Checkpoints(context.Background())
		for _, u := range us {
			if u.Time >= cps[producer] {
				violations.Add(1)
			}
		}
	}
	fail := func(call int64) bool { return call%7 == 3 }
	h = newHarness(t, options{workers: 2, beforeApply: hook, wrapOutputs: func(s persistence.Shard) persistence.Shard {
		return &failingShard{Shard: s, fail: fail}
	}})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	installAll(h)
	var id int64
	ts := workload(h, rand.New(rand.NewSource(3)), 120, &id)
	checkAll(h, ts, 3)
	require.Positive(t, viewBatches.Load(), "the view reader must have read view output")
	require.Zero(t, violations.Load(), "view output fed before it was committed")
	require.Positive(t, counterValue(t, h.reg, "arbor_coordinator_commit_failures_total", ""))
	checkOutputShard(t, h, perCustomer, ts)
}

// checkOutputShard reads a materialized view's committed output and checks
// that at every timestamp it sums to the oracle: no duplicate, no lost
// row.
func checkOutputShard(t *testing.T, h *harness, id timely.GlobalId, ts []timely.Timestamp) {
	st, err := coordinator.OpenShardStore(context.Background(), h.outputs, nil)
	require.NoError(t, err)
	out, err := st.ReadView(context.Background(), id, 0, ts[len(ts)-1]+1)
	require.NoError(t, err)
	for _, at := range ts {
		counts := map[string]int64{}
		for _, u := range out {
			if u.Time <= at {
				counts[u.Row.String()] += u.Diff
			}
		}
		want := map[string]int64{}
		for _, r := range h.oracle(id, at) {
			want[r.String()]++
		}
		for k, v := range counts {
			if v == 0 {
				delete(counts, k)
			}
		}
		require.Equal(t, want, counts, "committed output of %s at %d", id, at)
	}
}

// TestRuntimeRestartsWhenCoordinatorFails: a coordinator that breaks an
// invariant fails the whole runtime, which restarts empty and says so; the
// flows installed again continue from their committed checkpoints and are
// exact.
func TestRuntimeRestartsWhenCoordinatorFails(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	installAll(h)
	var id int64
	r := rand.New(rand.NewSource(5))
	before := workload(h, r, 30, &id)
	for _, f := range allFlows {
		h.waitFrontier(f, before[len(before)-1])
	}
	coord := actor.NewPID(h.runtime.Address, h.runtime.Id+"/coordinator")
	h.sys.Root.Send(coord, &pool.TickReply{}) // no tick is in flight: illegal
	testkit.Eventually(t, func() bool {
		for _, e := range h.events.errs() {
			if strings.Contains(e, "restarted") {
				return true
			}
		}
		return false
	}, wait, "runtime restart reported")
	h.connect(func() { installAll(h) })
	after := workload(h, r, 30, &id)
	checkAll(h, append(before, after...), 3)
	checkOutputShard(t, h, perCustomer, append(before, after...))
}

// TestResubscribeWhenStorageEndsTheSubscription: when storage reports the
// runtime's CDC subscription ended, the runtime subscribes again from
// where its feed stood; later writes reach the flows, nothing twice.
func TestResubscribeWhenStorageEndsTheSubscription(t *testing.T) {
	h := newHarness(t, options{workers: 2})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	installAll(h)
	var id int64
	r := rand.New(rand.NewSource(6))
	before := workload(h, r, 20, &id)
	for _, f := range allFlows {
		h.waitFrontier(f, before[len(before)-1])
	}
	// End the subscription at storage, then tell the runtime as storage
	// would; everything the old subscription sent is in the runtime's
	// mailbox before the notice.
	res := h.request(h.storage, &messages.StorageUnsubscribe{SubscriptionId: "runtime"}).(*messages.StorageUnsubscribeResponse)
	require.Nil(t, res.GetError())
	h.sys.Root.Send(h.runtime, &messages.StorageCdcEnded{SubscriptionId: "runtime"})
	after := workload(h, r, 20, &id)
	checkAll(h, append(before, after...), 4)
}

// landedShard makes the CompareAndAppend calls for which lose says so land
// and then answers them with a timeout, as a backend whose answer was lost
// after it wrote: the commit's outcome is unknown to its caller.
type landedShard struct {
	persistence.Shard
	calls atomic.Int64
	lose  func(call int64) bool
}

func (s *landedShard) CompareAndAppend(ctx context.Context, ups []persistence.Update, expected, upper timely.Frontier) error {
	if err := s.Shard.CompareAndAppend(ctx, ups, expected, upper); err != nil {
		return err
	}
	if s.lose(s.calls.Add(1)) {
		return context.DeadlineExceeded
	}
	return nil
}

// TestCommitThatLandedAfterATimeout: a commit of the runtime's outputs
// lands but its answer is lost (a timeout). The store took it as not
// written, so the next commit finds the shard's upper moved. The runtime
// must not go on refusing commits: it restarts, reopens the shard, and the
// flows installed again resume from what is durable, exact, with no
// output doubled or lost.
func TestCommitThatLandedAfterATimeout(t *testing.T) {
	var armed atomic.Bool
	var lost atomic.Int64
	h := newHarness(t, options{workers: 2, wrapOutputs: func(s persistence.Shard) persistence.Shard {
		return &landedShard{Shard: s, lose: func(int64) bool {
			if armed.CompareAndSwap(true, false) {
				lost.Add(1)
				return true
			}
			return false
		}}
	}})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	installAll(h)
	var id int64
	r := rand.New(rand.NewSource(7))
	before := workload(h, r, 20, &id)
	for _, f := range allFlows {
		h.waitFrontier(f, before[len(before)-1])
	}
	armed.Store(true)
	during := workload(h, r, 20, &id)
	testkit.Eventually(t, func() bool {
		for _, e := range h.events.errs() {
			if strings.Contains(e, "restarted") {
				return true
			}
		}
		return false
	}, wait, "runtime restart reported")
	require.EqualValues(t, 1, lost.Load(), "one commit's answer was lost")
	h.connect(func() { installAll(h) })
	after := workload(h, r, 20, &id)
	all := append(append(before, during...), after...)
	checkAll(h, all, 3)
	checkOutputShard(t, h, perCustomer, all)
}
