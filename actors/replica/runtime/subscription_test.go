package runtime_test

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/replica/runtime"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

// refuseSubscribes answers the runtime's own StorageSubscribe with an
// UNAVAILABLE error while refuse says so (it gets the attempt, from 1);
// everything else goes to storage.
func refuseSubscribes(attempts *atomic.Int64, refuse func(n int64) bool) func(ctx actor.Context) bool {
	return func(ctx actor.Context) bool {
		m, ok := ctx.Message().(*messages.StorageSubscribe)
		if !ok || m.GetSubscriptionId() != "runtime" {
			return false
		}
		if n := attempts.Add(1); refuse(n) {
			ctx.Respond(&messages.StorageSubscribeResponse{SubscriptionId: m.GetSubscriptionId(), Error: messages.ErrorToWire(messages.ErrUnavailable)})
			return true
		}
		return false
	}
}

// TestSubscriptionRefusedIsRetried: storage refuses the runtime's
// change-data subscription twice. The runtime does not fail: it reports
// each refusal to its controller as a coded status error and subscribes
// again after a backoff on its clock; the third attempt is accepted and
// the flows compute.
func TestSubscriptionRefusedIsRetried(t *testing.T) {
	clk := testkit.NewManualClock()
	var attempts atomic.Int64
	h := newHarness(t, options{workers: 1, clock: clk, intercept: refuseSubscribes(&attempts, func(n int64) bool { return n <= 2 })})
	waitErrs := func(n int) []error {
		testkit.Eventually(t, func() bool { return len(h.events.runtimeErrors()) >= n }, wait, "%d runtime status errors", n)
		return h.events.runtimeErrors()
	}
	errs := waitErrs(1)
	require.ErrorIs(t, errs[0], messages.ErrBackend, "a storage refusal is a BACKEND status error: %v", errs[0])
	require.Contains(t, errs[0].Error(), "attempt 1 of 6")
	clk.Advance(time.Second)
	errs = waitErrs(2)
	require.Contains(t, errs[1].Error(), "attempt 2 of 6")
	clk.Advance(2 * time.Second)
	testkit.Eventually(t, func() bool { return attempts.Load() == 3 }, wait, "third subscribe")

	h.createTable(orders, ordersSchema)
	h.mustInstall(bigOrders, filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50)))), false, tableSrc(h, orders))
	ts := h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(1), dataflow.Int64(1), dataflow.Int64(70)}, diff: 1})
	h.waitFrontier(bigOrders, ts)
	h.checkAt(bigOrders, ts)
	require.Len(t, h.events.runtimeErrors(), 2)
}

// TestSubscriptionLost: storage refuses every attempt; after
// SubscribeRetries retries the runtime reports ErrSubscriptionLost
// (UNAVAILABLE, naming no collection), which its controller takes as the
// replica's failure, and asks no more.
func TestSubscriptionLost(t *testing.T) {
	clk := testkit.NewManualClock()
	var attempts atomic.Int64
	h := newHarness(t, options{workers: 1, clock: clk, subscribeRetry: 1, intercept: refuseSubscribes(&attempts, func(int64) bool { return true })})
	testkit.Eventually(t, func() bool { return len(h.events.runtimeErrors()) == 1 }, wait, "first refusal")
	clk.Advance(time.Second)
	testkit.Eventually(t, func() bool { return len(h.events.runtimeErrors()) == 2 }, wait, "second refusal")
	err := h.events.runtimeErrors()[1]
	require.ErrorIs(t, err, runtime.ErrSubscriptionLost)
	require.ErrorIs(t, err, messages.ErrUnavailable)
	clk.Advance(time.Hour)
	require.EqualValues(t, 2, attempts.Load(), "no attempt after the last retry")
}

// TestRefusalBeforeHelloReachesTheController: storage refuses the
// runtime's subscription before any controller has connected. The
// runtime keeps the status error and gives it to the first controller,
// which would otherwise never learn why its replica does not advance.
func TestRefusalBeforeHelloReachesTheController(t *testing.T) {
	clk := testkit.NewManualClock()
	var attempts atomic.Int64
	logs := &lockedBuffer{}
	h := newHarness(t, options{workers: 1, clock: clk, noConnect: true, logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		intercept: refuseSubscribes(&attempts, func(n int64) bool { return n <= 1 })})
	testkit.Eventually(t, func() bool { return strings.Contains(logs.String(), "attempt 1 of 6") }, wait, "the runtime took the first refusal")
	h.connect()
	testkit.Eventually(t, func() bool { return len(h.events.runtimeErrors()) == 1 }, wait, "the refusal reported to the controller")
	err := h.events.runtimeErrors()[0]
	require.ErrorIs(t, err, messages.ErrBackend)
	require.Contains(t, err.Error(), "attempt 1 of 6")
	clk.Advance(time.Second)
	testkit.Eventually(t, func() bool { return attempts.Load() == 2 }, wait, "second subscribe")
	require.Len(t, h.events.runtimeErrors(), 1, "the accepted retry reports nothing")
}
