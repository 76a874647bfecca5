package surface

import (
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// watchBatch is one batch of Watch (watch true) or Unwatch envelopes of
// target by each watcher id.
func watchBatch(target *actor.PID, watch bool, watchers ...string) *remote.MessageBatch {
	name := "actor.Unwatch"
	if watch {
		name = "actor.Watch"
	}
	b := &remote.MessageBatch{TypeNames: []string{name}, Targets: []*actor.PID{target}}
	for _, id := range watchers {
		pid := &actor.PID{Address: "10.0.0.9:5000", Id: id}
		var data []byte
		if watch {
			data, _ = proto.Marshal(&actor.Watch{Watcher: pid})
		} else {
			data, _ = proto.Marshal(&actor.Unwatch{Watcher: pid})
		}
		b.Envelopes = append(b.Envelopes, &remote.MessageEnvelope{MessageData: data})
	}
	return b
}

func keptWatchers(t *testing.T, b *remote.MessageBatch) []string {
	t.Helper()
	var out []string
	for _, e := range b.Envelopes {
		var w actor.Watch
		require.NoError(t, proto.Unmarshal(e.MessageData, &w))
		out = append(out, w.Watcher.Id)
	}
	return out
}

func TestScreenCapsTheRemoteWatchesOfAStream(t *testing.T) {
	running := map[string]bool{nodePID.Id: true, "other": true}
	w := newStreamWatches(2, func(id string) bool { return running[id] }, nil)
	kinds := &kindCache{}

	b := watchBatch(nodePID, true, "a", "b", "a", "c")
	drops, err := screenBatch(b, "peer", kinds, local{watches: w})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "a"}, keptWatchers(t, b), "a repeated watch is held once")
	require.Equal(t, []drop{{typeName: "actor.Watch", reason: ReasonWatchLimit}}, drops)

	// An Unwatch frees its watch (and is delivered).
	b = watchBatch(nodePID, false, "b")
	drops, err = screenBatch(b, "peer", kinds, local{watches: w})
	require.NoError(t, err)
	require.Empty(t, drops)
	require.Len(t, b.Envelopes, 1)
	b = watchBatch(nodePID, true, "c")
	_, err = screenBatch(b, "peer", kinds, local{watches: w})
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, keptWatchers(t, b))

	// At the cap, the watches of targets that stopped are forgotten first.
	other := &actor.PID{Address: nodePID.Address, Id: "other"}
	drops, err = screenBatch(watchBatch(other, true, "d"), "peer", kinds, local{watches: w})
	require.NoError(t, err)
	require.Len(t, drops, 1, "both watches of a running target still count")
	running[nodePID.Id] = false
	b = watchBatch(other, true, "d")
	drops, err = screenBatch(b, "peer", kinds, local{watches: w})
	require.NoError(t, err)
	require.Empty(t, drops)
	require.Equal(t, []string{"d"}, keptWatchers(t, b))

	released := w.release()
	require.Equal(t, []watchKey{{target: "other", watcherAddr: "10.0.0.9:5000", wID: "d"}}, released)
	require.Empty(t, w.release(), "released once")
}

func TestScreenWithoutWatchAccountingKeepsEveryWatch(t *testing.T) {
	b := watchBatch(nodePID, true, "a", "b", "c")
	drops, err := screenBatch(b, "peer", &kindCache{}, local{})
	require.NoError(t, err)
	require.Empty(t, drops)
	require.Len(t, b.Envelopes, 3)
}
