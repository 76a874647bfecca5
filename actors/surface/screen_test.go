package surface

import (
	"errors"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/surface/surfacetest"
	"github.com/arbor-db/arbor/messages"
)

var (
	nodePID   = &actor.PID{Address: "127.0.0.1:6880", Id: "node"}
	callerPID = &actor.PID{Address: "127.0.0.1:7000", Id: "future$1", RequestId: 0}
)

func TestScreenRefusesEachCrashFrameWhole(t *testing.T) {
	want := map[string]string{
		"target index past the targets":          ReasonTarget,
		"type id past the type names":            ReasonTypeID,
		"serializer id past the serializers":     ReasonSerializer,
		"sender index into an empty sender list": ReasonSender,
	}
	for _, f := range surfacetest.CrashFrames(nodePID) {
		t.Run(f.Name, func(t *testing.T) {
			before := proto.Clone(f.Batch)
			drops, err := screenBatch(f.Batch, "peer", &kindCache{}, local{})
			if f.Name == "unregistered type name" {
				// Not a structural fault: the envelope is dropped and
				// the rest of the stream goes on.
				require.NoError(t, err)
				require.Equal(t, []drop{{typeName: "arbor.nowhere.Missing", reason: ReasonUnknownType}}, drops)
				require.Empty(t, f.Batch.Envelopes)
				return
			}
			var fe *frameError
			require.True(t, errors.As(err, &fe), "err %v", err)
			require.Equal(t, want[f.Name], fe.reason)
			require.Nil(t, drops)
			require.True(t, proto.Equal(before, f.Batch), "a refused batch was changed")
		})
	}
}

func TestScreenRefusesNegativeIndexesAndNilPIDs(t *testing.T) {
	for name, tc := range map[string]struct {
		batch  *remote.MessageBatch
		reason string
	}{
		"negative target": {&remote.MessageBatch{TypeNames: []string{"actor.Touch"}, Targets: []*actor.PID{nodePID},
			Envelopes: []*remote.MessageEnvelope{{Target: -1}}}, ReasonTarget},
		"nil target": {&remote.MessageBatch{TypeNames: []string{"actor.Touch"}, Targets: []*actor.PID{nil},
			Envelopes: []*remote.MessageEnvelope{{TargetRequestId: 7}}}, ReasonTarget},
		"negative sender": {&remote.MessageBatch{TypeNames: []string{"actor.Touch"}, Targets: []*actor.PID{nodePID},
			Envelopes: []*remote.MessageEnvelope{{Sender: -2}}}, ReasonSender},
		"nil sender": {&remote.MessageBatch{TypeNames: []string{"actor.Touch"}, Targets: []*actor.PID{nodePID},
			Senders: []*actor.PID{nil}, Envelopes: []*remote.MessageEnvelope{{Sender: 1, SenderRequestId: 3}}}, ReasonSender},
		"negative type id": {&remote.MessageBatch{TypeNames: []string{"actor.Touch"}, Targets: []*actor.PID{nodePID},
			Envelopes: []*remote.MessageEnvelope{{TypeId: -1}}}, ReasonTypeID},
		"json serializer": {&remote.MessageBatch{TypeNames: []string{"actor.Touch"}, Targets: []*actor.PID{nodePID},
			Envelopes: []*remote.MessageEnvelope{{SerializerId: 1}}}, ReasonSerializer},
		"nil envelope": {&remote.MessageBatch{TypeNames: []string{"actor.Touch"}, Targets: []*actor.PID{nodePID},
			Envelopes: []*remote.MessageEnvelope{nil}}, ReasonUnreadable},
		"a good envelope then a bad one": {&remote.MessageBatch{TypeNames: []string{"actor.Touch"}, Targets: []*actor.PID{nodePID},
			Envelopes: []*remote.MessageEnvelope{{}, {Target: 1}}}, ReasonTarget},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := screenBatch(tc.batch, "peer", &kindCache{}, local{})
			var fe *frameError
			require.True(t, errors.As(err, &fe), "err %v", err)
			require.Equal(t, tc.reason, fe.reason)
		})
	}
}

func TestScreenDropsDeniedSystemMessagesKeepsRemoteWatchAndMarksTheRest(t *testing.T) {
	enc := func(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }
	b := &remote.MessageBatch{
		TypeNames: []string{"actor.PoisonPill", "actor.Stop", "actor.Watch", "actor.Terminated", "arbor.messages.Row", "actor.Unwatch"},
		Targets:   []*actor.PID{nodePID},
		Senders:   []*actor.PID{callerPID},
		Envelopes: []*remote.MessageEnvelope{
			{TypeId: 0, MessageData: enc(&actor.PoisonPill{})},
			{TypeId: 1, MessageData: enc(&actor.Stop{})},
			{TypeId: 2, MessageData: enc(&actor.Watch{Watcher: callerPID})},
			{TypeId: 3, MessageData: enc(&actor.Terminated{Who: callerPID})},
			{TypeId: 4, Sender: 1, SenderRequestId: 9, MessageData: enc(&messages.Row{}),
				MessageHeader: &remote.MessageHeader{HeaderData: map[string]string{RemoteHeader: "forged", "trace": "t1"}}},
			{TypeId: 5, MessageData: enc(&actor.Unwatch{Watcher: callerPID})},
		},
	}
	drops, err := screenBatch(b, "10.0.0.9:5000", &kindCache{}, local{})
	require.NoError(t, err)
	require.Equal(t, []drop{{typeName: "actor.PoisonPill"}, {typeName: "actor.Stop"}}, drops)
	var kept []string
	for _, e := range b.Envelopes {
		kept = append(kept, b.TypeNames[e.TypeId])
	}
	require.Equal(t, []string{"actor.Watch", "actor.Terminated", "arbor.messages.Row", "actor.Unwatch"}, kept)
	row := b.Envelopes[2]
	require.Equal(t, map[string]string{RemoteHeader: "10.0.0.9:5000", "trace": "t1"}, row.MessageHeader.HeaderData,
		"the guard's mark replaces whatever the peer put there")
	require.Nil(t, b.Envelopes[0].MessageHeader, "system messages are not marked")
}

func TestScreenAnswersUnknownTypesToTheirSender(t *testing.T) {
	b := &remote.MessageBatch{
		TypeNames: []string{"arbor.nowhere.Missing"},
		Targets:   []*actor.PID{nodePID},
		Senders:   []*actor.PID{callerPID},
		Envelopes: []*remote.MessageEnvelope{{Sender: 1, SenderRequestId: 4}},
	}
	drops, err := screenBatch(b, "peer", &kindCache{}, local{})
	require.NoError(t, err)
	require.Len(t, drops, 1)
	require.Equal(t, uint32(4), drops[0].sender.RequestId)
	require.Equal(t, uint32(0), callerPID.RequestId, "the batch's sender list is not changed")
}

func TestScreenRefusesRemoteWatchMessagesWithoutTheirPID(t *testing.T) {
	enc := func(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }
	for name, tc := range map[string]struct {
		typeName string
		data     []byte
	}{
		"Watch without a watcher":         {"actor.Watch", enc(&actor.Watch{})},
		"Watch with an empty watcher":     {"actor.Watch", enc(&actor.Watch{Watcher: &actor.PID{}})},
		"Unwatch without a watcher":       {"actor.Unwatch", enc(&actor.Unwatch{})},
		"Terminated without who":          {"actor.Terminated", enc(&actor.Terminated{})},
		"Watch that does not decode":      {"actor.Watch", []byte{0xff, 0xff, 0xff}},
		"Terminated that does not decode": {"actor.Terminated", []byte{0x0a, 0x05, 0x01}},
	} {
		t.Run(name, func(t *testing.T) {
			b := &remote.MessageBatch{TypeNames: []string{tc.typeName}, Targets: []*actor.PID{nodePID},
				Envelopes: []*remote.MessageEnvelope{{MessageData: tc.data}}}
			_, err := screenBatch(b, "peer", &kindCache{}, local{})
			var fe *frameError
			require.True(t, errors.As(err, &fe), "err %v", err)
			require.Equal(t, ReasonMalformed, fe.reason)
		})
	}
}
