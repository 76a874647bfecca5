package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// shards are the storage actor's open shard handles: the registry and one
// per live table. They belong to the actor and are closed when it stops.
type shards struct {
	store persistence.Store
	// timeout is Config.CallTimeout, the deadline of the calls made under
	// the contexts the actor passes (for backendError's message).
	timeout  time.Duration
	registry persistence.Shard
	// registryUpper is the registry shard's upper (one version per change).
	registryUpper timely.Frontier
	// records are the registry values of the tables, to retract on drop.
	records map[timely.GlobalId][]byte
	tables  map[timely.GlobalId]persistence.Shard
	// txns is the commit log (commit_log.go); txnsSince and txnsUpper its
	// frontiers (the log's upper trails the tables' after one-table
	// groups).
	txns      persistence.Shard
	txnsSince timely.Timestamp
	txnsUpper timely.Frontier
}

// createTable opens the new table's shard, brings it to t.Upper (the
// common upper; a collection's lower) and records t in the registry, all
// under ctx. Its errors name the table and the step that failed; a backend
// failure or timeout (outcomeUnknown) leaves the registry's state unknown.
func (sh *shards) createTable(ctx context.Context, t TableInfo) error {
	id, upper := t.Id, t.Upper
	op := "create table " + id.String()
	if t.Collection {
		op = "create collection " + id.String()
	}
	s, err := sh.store.OpenShard(ctx, ShardName(id))
	if err != nil {
		return backendError(ctx, sh.timeout, op+": open its shard", err)
	}
	sh.tables[id] = s
	cur, err := s.Upper(ctx)
	switch {
	case err != nil:
		err = backendError(ctx, sh.timeout, op+": read its shard's upper", err)
	case upper.LessThan(cur):
		// Only a shard written outside this actor can be ahead.
		err = fmt.Errorf("%w: %s: its shard's upper %s is ahead of %s", persistence.ErrCorrupt, op, cur, upper)
	case cur.LessThan(upper):
		if err = s.CompareAndAppend(ctx, nil, cur, upper); err != nil {
			err = backendError(ctx, sh.timeout, fmt.Sprintf("%s: advance its shard from %s to %s", op, cur, upper), err)
		}
	}
	if err == nil {
		t.Dropped = false
		rec := encodeRecord(t)
		if err = sh.writeRegistry(ctx, op, []persistence.Update{{Key: []byte(id.String()), Value: rec, Diff: 1}}); err == nil {
			sh.records[id] = rec
		}
	}
	if err != nil {
		delete(sh.tables, id)
		_ = s.Close()
		return onTable(id, err)
	}
	return nil
}

// dropTable marks the table dropped in the registry, then closes its
// shard's upper and its handle. An error means the registry was not
// written and the table is still live; closeErr reports a failure to close
// the shard's upper after the drop was recorded (harmless: a dropped
// table's shard is never opened again).
func (sh *shards) dropTable(ctx context.Context, t TableInfo, upper timely.Frontier) (closeErr, err error) {
	id := t.Id
	op := "drop table " + id.String()
	key := []byte(id.String())
	t.Dropped = true
	rec := encodeRecord(t)
	if err := sh.writeRegistry(ctx, op, []persistence.Update{
		{Key: key, Value: sh.records[id], Diff: -1},
		{Key: key, Value: rec, Diff: 1},
	}); err != nil {
		return nil, onTable(id, err)
	}
	sh.records[id] = rec
	s := sh.tables[id]
	delete(sh.tables, id)
	if err := s.CompareAndAppend(ctx, nil, upper, timely.Closed()); err != nil {
		closeErr = backendError(ctx, sh.timeout, op+": close its shard's upper", err)
	}
	_ = s.Close()
	return closeErr, nil
}

// appendCollection compare-and-appends a to its collection's shard under
// ctx. The actor is the shard's only writer and checked the upper, so any
// failure (a mismatch included) leaves the shard's state unknown.
func (sh *shards) appendCollection(ctx context.Context, a CollectionAppend) error {
	err := sh.tables[a.Collection].CompareAndAppend(ctx, a.Updates, timely.At(a.Expected), timely.At(a.Upper))
	return onTable(a.Collection, backendError(ctx, sh.timeout, fmt.Sprintf("append to collection %s [%d, %d)", a.Collection, a.Expected, a.Upper), err))
}

// close closes every handle (not the store).
func (sh *shards) close() {
	for _, s := range sh.tables {
		_ = s.Close()
	}
	if sh.registry != nil {
		_ = sh.registry.Close()
	}
	if sh.txns != nil {
		_ = sh.txns.Close()
	}
}
