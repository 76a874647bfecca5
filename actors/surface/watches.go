package surface

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
)

// Remote watches. A Watch from a peer adds its watcher PID to the target
// actor's watcher set, and protoactor removes it only on an Unwatch or when
// the target stops; it never removes the watchers of a peer that went away.
// A peer could therefore grow any actor's watcher set without bound (a
// Watch per made-up watcher id), and a well-behaved client that watches the
// environment and exits leaves one entry behind for the life of the node.
// The guard bounds both, per Remoting stream (one peer connection):
//
//   - a stream holds at most GuardConfig.MaxRemoteWatches distinct
//     (target, watcher) watches; a Watch beyond that is dropped and counted
//     (arbor_remote_frames_rejected_total{reason="watch_limit"}), after
//     the watches of targets that no longer exist are forgotten;
//   - an Unwatch on the stream frees its watch;
//   - when the stream ends, the guard unwatches, in each target still
//     running, every watch the stream still holds. The peer has by then
//     seen its endpoint terminate, which protoactor reports to its
//     watchers as Terminated, so no one waits on those watches.
//
// So the remote watchers of the node's actors are bounded by the cap times
// the open connections, and vanish with their connection. The gauge
// arbor_remote_watches is how many watches the open connections hold.

// DefaultMaxRemoteWatches is GuardConfig.MaxRemoteWatches's default.
const DefaultMaxRemoteWatches = 4096

// watchKey is one remote watch: a local target id and the watcher.
type watchKey struct {
	target           string
	watcherAddr, wID string
}

// streamWatches are the watches one stream holds. Not safe for concurrent
// use: one stream receives in one goroutine.
type streamWatches struct {
	max  int
	held map[watchKey]struct{}
	// exists reports whether a local actor of that id runs; nil means every
	// target counts as running.
	exists func(id string) bool
	// gauge follows len(held) (the sum over streams); nil for none.
	gauge prometheus.Gauge
}

func newStreamWatches(max int, exists func(string) bool, gauge prometheus.Gauge) *streamWatches {
	return &streamWatches{max: max, held: map[watchKey]struct{}{}, exists: exists, gauge: gauge}
}

func (w *streamWatches) add(d int) {
	if w.gauge != nil {
		w.gauge.Add(float64(d))
	}
}

// watch records k and reports whether it is within the cap. A watch
// already held is within it.
func (w *streamWatches) watch(k watchKey) bool {
	if _, ok := w.held[k]; ok {
		return true
	}
	if len(w.held) >= w.max && w.exists != nil {
		// Targets that stopped took their watcher sets with them.
		for h := range w.held {
			if !w.exists(h.target) {
				delete(w.held, h)
				w.add(-1)
			}
		}
	}
	if len(w.held) >= w.max {
		return false
	}
	w.held[k] = struct{}{}
	w.add(1)
	return true
}

func (w *streamWatches) unwatch(k watchKey) {
	if _, ok := w.held[k]; ok {
		delete(w.held, k)
		w.add(-1)
	}
}

// release returns every watch held and forgets them.
func (w *streamWatches) release() []watchKey {
	out := make([]watchKey, 0, len(w.held))
	for k := range w.held {
		out = append(out, k)
	}
	clear(w.held)
	w.add(-len(out))
	return out
}

// unwatchAll sends each target still running an Unwatch of its watcher.
func (g *RemoteGuard) unwatchAll(keys []watchKey) {
	if g.system == nil {
		return
	}
	for _, k := range keys {
		ref, ok := g.system.ProcessRegistry.GetLocal(k.target)
		if !ok {
			continue
		}
		target := actor.NewPID(g.system.Address(), k.target)
		ref.SendSystemMessage(target, &actor.Unwatch{Watcher: actor.NewPID(k.watcherAddr, k.wID)})
	}
}
