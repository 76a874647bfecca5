package storage

import (
	"context"
	"fmt"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// shards are the storage actor's open shard handles: the registry and one
// per live table. They belong to the actor and are closed when it stops.
type shards struct {
	store    persistence.Store
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

// advance moves table id's shard from upper from to upper to with an empty
// append (nothing to do when they are equal).
func (sh *shards) advance(ctx context.Context, id timely.GlobalId, from, to timely.Frontier) error {
	if !from.LessThan(to) {
		return nil
	}
	if err := sh.tables[id].CompareAndAppend(ctx, nil, from, to); err != nil {
		return fmt.Errorf("%w: advance table %s from %s to %s: %w", ErrBackend, id, from, to, err)
	}
	return nil
}

// createTable opens the new table's shard, brings it to the common upper
// and records the table in the registry.
func (sh *shards) createTable(ctx context.Context, id timely.GlobalId, schema dataflow.Schema, upper timely.Frontier) error {
	s, err := sh.store.OpenShard(ctx, ShardName(id))
	if err != nil {
		return fmt.Errorf("%w: open table %s: %w", ErrBackend, id, err)
	}
	sh.tables[id] = s
	cur, err := s.Upper(ctx)
	if err == nil && upper.LessThan(cur) {
		// Only a shard written outside this actor can be ahead.
		err = fmt.Errorf("%w: its upper %s is ahead of the tables' upper %s", persistence.ErrCorrupt, cur, upper)
	}
	if err == nil {
		err = sh.advance(ctx, id, cur, upper)
	}
	if err == nil {
		rec := encodeRecord(id, schema, false)
		if err = sh.writeRegistry(ctx, []persistence.Update{{Key: []byte(id.String()), Value: rec, Diff: 1}}); err == nil {
			sh.records[id] = rec
		}
	}
	if err != nil {
		delete(sh.tables, id)
		_ = s.Close()
		return fmt.Errorf("create table %s: %w", id, err)
	}
	return nil
}

// dropTable marks the table dropped in the registry, then closes its
// shard's upper and its handle. An error means the registry was not
// written and the table is still live; closeErr reports a failure to close
// the shard's upper after the drop was recorded (harmless: a dropped
// table's shard is never opened again).
func (sh *shards) dropTable(ctx context.Context, id timely.GlobalId, schema dataflow.Schema, upper timely.Frontier) (closeErr, err error) {
	key := []byte(id.String())
	rec := encodeRecord(id, schema, true)
	if err := sh.writeRegistry(ctx, []persistence.Update{
		{Key: key, Value: sh.records[id], Diff: -1},
		{Key: key, Value: rec, Diff: 1},
	}); err != nil {
		return nil, fmt.Errorf("drop table %s: %w", id, err)
	}
	sh.records[id] = rec
	s := sh.tables[id]
	delete(sh.tables, id)
	closeErr = s.CompareAndAppend(ctx, nil, upper, timely.Closed())
	_ = s.Close()
	return closeErr, nil
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
