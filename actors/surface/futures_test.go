package surface

import (
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
)

func TestScreenLetsThroughToFuturesOnlyRepliesToRunningOnes(t *testing.T) {
	enc := func(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }
	running := &actor.PID{Address: nodePID.Address, Id: "future$3"}
	gone := &actor.PID{Address: nodePID.Address, Id: "future$9"}
	b := &remote.MessageBatch{
		TypeNames: []string{"arbor.messages.Row", "actor.Watch", "actor.Unwatch", "actor.Terminated"},
		Targets:   []*actor.PID{running, gone, nodePID},
		Senders:   []*actor.PID{callerPID},
		Envelopes: []*remote.MessageEnvelope{
			{Target: 0, TypeId: 0, MessageData: enc(&messages.Row{})},                    // kept: the reply
			{Target: 0, TypeId: 1, MessageData: enc(&actor.Watch{Watcher: callerPID})},   // a Watch would complete it
			{Target: 0, TypeId: 2, MessageData: enc(&actor.Unwatch{Watcher: callerPID})}, // so would an Unwatch
			{Target: 0, TypeId: 3, MessageData: enc(&actor.Terminated{Who: callerPID})},  // and a Terminated
			{Target: 1, TypeId: 0, Sender: 1, MessageData: enc(&messages.Row{})},         // no such future: dropped, unanswered
			{Target: 2, TypeId: 0, MessageData: enc(&messages.Row{})},                    // not a future: kept
			{Target: 2, TypeId: 1, MessageData: enc(&actor.Watch{Watcher: callerPID})},   // a Watch of an actor: kept
		},
	}
	exists := func(id string) bool { return id == running.Id || id == nodePID.Id }
	drops, err := screenBatch(b, "peer", &kindCache{}, local{exists: exists})
	require.NoError(t, err)
	require.Equal(t, []drop{
		{typeName: "actor.Watch", reason: ReasonFuture},
		{typeName: "actor.Unwatch", reason: ReasonFuture},
		{typeName: "actor.Terminated", reason: ReasonFuture},
		{typeName: "arbor.messages.Row", reason: ReasonFuture},
	}, drops)
	var kept []string
	for _, e := range b.Envelopes {
		kept = append(kept, b.Targets[e.Target].Id+" "+b.TypeNames[e.TypeId])
	}
	require.Equal(t, []string{"future$3 arbor.messages.Row", "node arbor.messages.Row", "node actor.Watch"}, kept)
}
