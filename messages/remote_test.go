//go:build !race

package messages_test

import (
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
)

// TestCommonMessagesCrossRemote sends every shared wire type from one actor
// system to another over protoactor remote on loopback and back again: the
// types must be registered protobuf messages, or remote drops them silently.
func TestCommonMessagesCrossRemote(t *testing.T) {
	server, _ := testkit.NewRemoteSystem(t)
	client, _ := testkit.NewRemoteSystem(t)

	// The echo actor on the server returns whatever it receives to its sender.
	echo, err := server.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(proto.Message); ok && ctx.Sender() != nil {
			ctx.Request(ctx.Sender(), m)
		}
	}), "echo")
	if err != nil {
		t.Fatal(err)
	}
	remoteEcho := actor.NewPID(server.Address(), echo.Id)
	probe := testkit.NewProbe(t, client)

	var u timely.Uuid
	copy(u[:], "0123456789abcdef")
	sent := []proto.Message{
		messages.FromTimestamp(1700000000000),
		messages.FromFrontier(timely.At(42)),
		messages.FromFrontier(timely.Closed()),
		messages.FromGlobalId(timely.UserId(7)),
		messages.FromReplicaId(timely.ReplicaId{Kind: timely.System, Value: 2}),
		messages.FromClusterId(timely.ClusterId{Kind: timely.User, Value: 1}),
		messages.FromConnectionId(99),
		messages.FromUuid(u),
		&messages.Datum{Value: &messages.Datum_Null{Null: &messages.Null{}}},
		&messages.Row{Datums: []*messages.Datum{
			{Value: &messages.Datum_Bool{Bool: true}},
			{Value: &messages.Datum_Int64{Int64: -5}},
			{Value: &messages.Datum_Float64{Float64: 2.5}},
			{Value: &messages.Datum_String_{String_: "héllo"}},
			{Value: &messages.Datum_Bytes{Bytes: []byte{0, 1, 2}}},
			{Value: &messages.Datum_Timestamp{Timestamp: 12345}},
			{Value: &messages.Datum_Null{Null: &messages.Null{}}},
		}},
	}
	for _, m := range sent {
		probe.Send(remoteEcho, m)
		got := testkit.ExpectMsg[proto.Message](probe, testkit.DefaultTimeout)
		if !proto.Equal(got, m) {
			t.Fatalf("sent %T %v, got back %T %v", m, m, got, got)
		}
		if !probe.LastSender().Equal(remoteEcho) {
			t.Fatalf("reply came from %v, want %v", probe.LastSender(), remoteEcho)
		}
	}
	// The uuid survives the trip byte for byte.
	back, err := messages.FromUuid(u).ToTimely()
	if err != nil || back != u {
		t.Fatalf("uuid %v -> %v, %v", u, back, err)
	}
}
