package surface

import "strings"

// Futures. protoactor answers a request made with RequestFuture to a
// short-lived local process named future$<n>, with <n> from a counter, so a
// peer can name one. What the guard lets through to such a PID:
//
//   - no system message: a future completes with the first message it gets,
//     system messages included, so a remote Watch would complete someone
//     else's request with a *actor.Watch. Nothing watches a future.
//   - a message only while a future of that id runs. A late reply (the
//     request timed out) and a guess at an id that was never issued are
//     dropped and counted here instead of going to protoactor's dead
//     letters.
//
// A running future accepts its reply from any peer: protoactor does not
// bind a future to the PID it asked. Answering another party's request
// needs a certificate from the deployment's CA (mutual TLS off loopback),
// a future id in use at that moment, and the reply's type; the caller then
// gets a wrong answer of the right type. Arbor does not close that gap in
// this build: every party with the CA's certificate is trusted that far.

// futurePrefix is how protoactor names futures ("future" + "$<n>").
const futurePrefix = "future$"

func isFuture(id string) bool { return strings.HasPrefix(id, futurePrefix) }

// local is what the guard knows of its node while screening a batch.
type local struct {
	// watches are the remote watches of the batch's stream; nil: no cap.
	watches *streamWatches
	// exists reports whether a local process of that id runs; nil: every
	// id counts as running.
	exists func(id string) bool
}

// refuseFuture says why a message of kind k to the future id is refused,
// or "" when it may be delivered.
func (l local) refuseFuture(id string, k kind) string {
	if k == kindSystem || k == kindDenied {
		return ReasonFuture
	}
	if l.exists != nil && !l.exists(id) {
		return ReasonFuture
	}
	return ""
}
