//go:build !race

// protoactor remote replaces gRPC's global logger on every start, which the
// race detector reports between two remote systems in one process (see
// testkit's doc); this test therefore runs without -race only.

package storage_test

import (
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/actors/storage"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/testkit"
)

// A consumer on another node subscribes, reads a range and holds; when it
// stops, the storage node releases its hold (remote watch).
func TestRemoteConsumer(t *testing.T) {
	server, _ := testkit.NewRemoteSystem(t)
	client, _ := testkit.NewRemoteSystem(t)
	store := mem.New()
	t.Cleanup(func() { _ = store.Close() })
	props, err := storage.New(storage.Config{Store: store, Clock: testkit.NewManualClock(), Logger: testkit.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	local, err := server.Root.SpawnNamed(props, "storage")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Root.StopFuture(local).Wait() })
	pid := actor.NewPID(server.Address(), local.Id)

	c := testkit.NewProbe(t, client)
	c.Send(pid, &messages.StorageCreateTable{Table: messages.FromGlobalId(u1), Schema: dataflow.SchemaToWire(accounts)})
	if r := testkit.ExpectMsg[*messages.StorageCreateTableResponse](c, timeout); r.Error != nil {
		t.Fatal(r.Error)
	}
	c.Send(pid, write(rows(u1, row(i64(1), str("a")))))
	first := testkit.ExpectMsg[*messages.StorageWriteResponse](c, timeout).Timestamp

	c.Send(pid, &messages.StorageSubscribe{SubscriptionId: "remote", From: first})
	if r := testkit.ExpectMsg[*messages.StorageSubscribeResponse](c, timeout); r.Error != nil {
		t.Fatal(r.Error)
	}
	if v, got := expectBatch(t, c, "remote"); uint64(v) != first || got != `map[u1:map[(1, "a"):1]]` {
		t.Fatalf("replayed batch (%d, %s)", v, got)
	}
	expectProgress(t, c, "remote")
	c.Send(pid, &messages.StorageReadRange{Lo: 0, Hi: first + 1})
	if r := testkit.ExpectMsg[*messages.StorageReadRangeResponse](c, timeout); r.Error != nil || len(r.Versions) != 1 {
		t.Fatalf("remote range read: %v", r)
	}

	// The consumer goes away: the storage node, watching it remotely,
	// ends its subscription, so the id is free again.
	client.Root.Stop(c.PID())
	other := testkit.NewProbe(t, server)
	testkit.Eventually(t, func() bool {
		other.Send(local, &messages.StorageSubscribe{SubscriptionId: "remote", From: first})
		return testkit.ExpectMsg[*messages.StorageSubscribeResponse](other, timeout).Error == nil
	}, timeout, "the remote consumer's subscription was released")
}
