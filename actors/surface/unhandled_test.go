package surface_test

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type known struct{}

func TestUnhandledRepliesAndCounts(t *testing.T) {
	sys := testkit.NewSystem(t)
	reg := prometheus.NewRegistry()
	u, err := surface.NewUnhandled("echo", nil, reg)
	require.NoError(t, err)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case *known:
			ctx.Respond(&messages.Null{})
		default:
			u.Handle(ctx)
		}
	}))
	res, err := sys.Root.RequestFuture(pid, &messages.Row{}, 5*time.Second).Result()
	require.NoError(t, err)
	reply, ok := res.(*messages.UnknownMessageReply)
	require.True(t, ok, "got %T", res)
	require.Equal(t, "arbor.messages.Row", reply.GetType())
	require.ErrorIs(t, messages.ErrorFromWire(reply.GetError()), messages.ErrUnknownMessage)

	// A Go value too, and a message without a sender: counted, not answered.
	_, err = sys.Root.RequestFuture(pid, 42, 5*time.Second).Result()
	require.NoError(t, err)
	sys.Root.Send(pid, &messages.Row{})
	res, err = sys.Root.RequestFuture(pid, &known{}, 5*time.Second).Result()
	require.NoError(t, err)
	require.IsType(t, &messages.Null{}, res)

	vec := counterOf(t, reg)
	require.Equal(t, 2.0, testutil.ToFloat64(vec.WithLabelValues("echo", "arbor.messages.Row")))
	require.Equal(t, 1.0, testutil.ToFloat64(vec.WithLabelValues("echo", "int")))
}

func counterOf(t *testing.T, reg *prometheus.Registry) *prometheus.CounterVec {
	t.Helper()
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "arbor_actor_unknown_messages_total",
		Help: "Messages an actor received but does not handle, by actor and message type.",
	}, []string{"actor", "type"})
	err := reg.Register(v)
	var are prometheus.AlreadyRegisteredError
	require.ErrorAs(t, err, &are)
	return are.ExistingCollector.(*prometheus.CounterVec)
}
