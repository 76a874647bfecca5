package storage

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// handleCreateCollection creates a collection: its shard at its lower and
// its registry entry, in the actor's turn, each call bounded by
// Config.CallTimeout (like a table). A collection has its own upper, so
// unlike a table it need not wait for a group commit in flight.
func (a *storageActor) handleCreateCollection(ctx actor.Context, m *messages.StorageCreateCollection) {
	fail := func(err error) {
		a.respond(ctx, &messages.StorageCreateCollectionResponse{Collection: m.GetCollection(), Error: messages.ErrorToWire(err)})
	}
	id, err := decodeId("create collection", m.GetCollection())
	if err != nil {
		fail(err)
		return
	}
	schema, err := dataflow.SchemaFromWire(m.GetSchema())
	if err != nil {
		fail(onTable(id, fmt.Errorf("%w: create collection %s: %w", ErrMalformed, id, err)))
		return
	}
	if err = a.state.CheckCreate(id, schema); err != nil {
		fail(err)
		return
	}
	lower := timely.Timestamp(m.GetLower())
	cctx, cancel := a.call()
	err = a.shards.createTable(cctx, TableInfo{Id: id, Schema: schema, Upper: timely.At(lower), Collection: true})
	cancel()
	if err != nil {
		fail(err)
		a.failOnBackend(err)
		return
	}
	a.state.CreateCollection(id, schema, lower)
	a.refreshGauges()
	a.respond(ctx, &messages.StorageCreateCollectionResponse{Collection: m.Collection, Frontiers: a.frontiersOf(id)})
}

// handleAppend validates a compare-and-append to a collection and performs
// it on the collection's shard in the actor's turn, within one
// Config.CallTimeout. A mismatch of the expected upper is answered with
// the current upper and writes nothing. A failed or timed-out shard
// append leaves the shard's upper unknown: the actor answers the error and
// panics, and its restart recovers the upper from the shard (the writer
// asks again and learns it from the mismatch).
func (a *storageActor) handleAppend(ctx actor.Context, m *messages.StorageAppend) {
	ap, cur, err := a.state.DecodeAppend(m)
	if err != nil {
		resp := &messages.StorageAppendResponse{Collection: m.GetCollection(), Error: messages.ErrorToWire(err)}
		if cur != nil {
			resp.CurrentUpper = messages.FromFrontier(*cur)
		}
		a.metrics.RejectedAppends.WithLabelValues(messages.CodeOf(err).String()).Inc()
		a.respond(ctx, resp)
		return
	}
	cctx, cancel := a.call()
	err = a.shards.appendCollection(cctx, ap)
	cancel()
	if err != nil {
		a.respond(ctx, &messages.StorageAppendResponse{Collection: m.Collection, Error: messages.ErrorToWire(err)})
		a.failOnBackend(err)
		return
	}
	ds := a.state.ApplyAppend(ap)
	a.metrics.Appends.Inc()
	a.respond(ctx, &messages.StorageAppendResponse{Collection: m.Collection, CurrentUpper: messages.FromFrontier(timely.At(ap.Upper))})
	a.deliver(ctx, ds)
}
