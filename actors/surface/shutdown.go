package surface

import "github.com/asynkron/protoactor-go/remote"

// ShutdownRemote stops r gracefully, as Remote.Shutdown(true) does, around
// a bug of protoactor-go (at the version Arbor pins): the endpoint manager
// tells every inbound stream's reader to disconnect by sending on a
// channel that the reader closes when its stream ends, and removes from
// its map only later, so a graceful shutdown that comes after a peer's
// stream closed panics with "send on closed channel" in the caller's
// goroutine. When that happens the shutdown is finished the hard way
// (Shutdown(false) stops the gRPC server and closes every connection).
// Every remote Arbor starts, in the node, the client library and tests,
// is stopped through here.
func ShutdownRemote(r *remote.Remote) {
	if r == nil {
		return
	}
	defer func() {
		if recover() != nil {
			r.Shutdown(false)
		}
	}()
	r.Shutdown(true)
}
