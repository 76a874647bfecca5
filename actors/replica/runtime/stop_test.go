package runtime_test

import (
	"bytes"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
)

// TestStopIsNotLostToARestart: a runtime asked to stop that fails while
// its children are still stopping is restarted by its supervisor, and
// protoactor lets that restart override the stop. The runtime must still
// end: its controller (the ReplicaState) waits for it to terminate to
// relaunch the replica. Here a worker is held in a batch so that the stop
// takes a while, the runtime fails meanwhile, and the worker is released.
func TestStopIsNotLostToARestart(t *testing.T) {
	var armed atomic.Bool
	gate := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	logs := &lockedBuffer{}
	h := newHarness(t, options{workers: 1, logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})), beforeApply: func(int, pool.FlowBatch) {
		if armed.Load() {
			once.Do(func() { close(entered) })
			<-gate
		}
	}})
	h.createTable(orders, ordersSchema)
	h.createTable(customers, customersSchema)
	h.mustInstall(bigOrders, filterP(getP(orders), binE(opGt, colE(2), litE(dataflow.Int64(50)))), false, tableSrc(h, orders))
	armed.Store(true)
	h.mustWrite(change{table: orders, row: dataflow.Row{dataflow.Int64(1), dataflow.Int64(1), dataflow.Int64(60)}, diff: 1})
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("the worker never applied the batch")
	}
	stopped := h.sys.Root.StopFuture(h.runtime)
	// The runtime is stopping (its pool waits for the held worker); now
	// it fails: its supervisor restarts it, which here is the system
	// message the supervisor sends after a failure (the runtime itself no
	// longer panics on any input).
	proc, ok := h.sys.ProcessRegistry.Get(h.runtime)
	require.True(t, ok)
	proc.SendSystemMessage(h.runtime, &actor.Restart{})
	time.Sleep(50 * time.Millisecond) // let the failure reach the supervisor before the stop can finish
	close(gate)
	require.NoError(t, stopped.Wait(), "the runtime terminated")
	// The case happened: the supervisor restarted the stopping runtime,
	// which stopped again.
	require.Contains(t, logs.String(), "runtime restarted while stopping")
	errs := h.events.errs()
	for _, e := range errs {
		require.NotContains(t, e, "restarted", "a runtime that was stopped does not come back empty")
	}
}

// lockedBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
