package surface_test

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

func TestAllowRemoteLetsOnlyListedTypesInFromRemoteSenders(t *testing.T) {
	sys := testkit.NewSystem(t)
	reg := prometheus.NewRegistry()
	allow, err := surface.AllowRemote(surface.AllowConfig{
		Actor: "echo", Types: []proto.Message{&messages.Row{}}, Logger: testkit.QuietLogger(), Registerer: reg,
	})
	require.NoError(t, err)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case *messages.Row, *messages.Null:
			ctx.Respond(ctx.Message())
		}
	}, actor.WithReceiverMiddleware(allow)))

	ask := func(m any, remote bool) any {
		t.Helper()
		f := actor.NewFuture(sys, 5*time.Second)
		env := &actor.MessageEnvelope{Message: m, Sender: f.PID()}
		if remote {
			env.SetHeader(surface.RemoteHeader, "10.0.0.9:4000")
		}
		sys.Root.Send(pid, env)
		res, err := f.Result()
		require.NoError(t, err)
		return res
	}
	require.IsType(t, &messages.Row{}, ask(&messages.Row{}, true), "a listed type from a remote sender")
	require.IsType(t, &messages.Null{}, ask(&messages.Null{}, false), "any type from a local sender")
	reply, ok := ask(&messages.Null{}, true).(*messages.UnknownMessageReply)
	require.True(t, ok, "an unlisted type from a remote sender is answered as unknown")
	require.ErrorIs(t, messages.ErrorFromWire(reply.GetError()), messages.ErrUnknownMessage)
	require.Equal(t, 1.0, gather(t, reg, "arbor_remote_messages_dropped_total", map[string]string{"type": "arbor.messages.Null"}))

	// A second middleware on the same registry shares the counter.
	_, err = surface.AllowRemote(surface.AllowConfig{Actor: "other", Registerer: reg})
	require.NoError(t, err)
}
