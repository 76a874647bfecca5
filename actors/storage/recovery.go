package storage

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
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
}

// openShards opens the registry and every live table's shard and brings
// the live tables to one upper (the greatest; see doc.go for why they may
// differ after a crash). It returns the tables found and that upper.
func openShards(ctx context.Context, store persistence.Store) (*shards, []TableInfo, timely.Frontier, error) {
	sh := &shards{store: store, records: map[timely.GlobalId][]byte{}, tables: map[timely.GlobalId]persistence.Shard{}}
	infos, upper, err := sh.open(ctx)
	if err != nil {
		sh.close()
		return nil, nil, timely.Frontier{}, err
	}
	return sh, infos, upper, nil
}

func (sh *shards) open(ctx context.Context) ([]TableInfo, timely.Frontier, error) {
	reg, err := sh.store.OpenShard(ctx, RegistryShard)
	if err != nil {
		return nil, timely.Frontier{}, fmt.Errorf("open table registry: %w", err)
	}
	sh.registry = reg
	if sh.registryUpper, err = reg.Upper(ctx); err != nil {
		return nil, timely.Frontier{}, fmt.Errorf("read table registry upper: %w", err)
	}
	var entries []persistence.Update
	if latest, ok := sh.registryUpper.StepBack(); ok {
		t, _ := latest.Time()
		if entries, err = reg.Snapshot(ctx, t); err != nil {
			return nil, timely.Frontier{}, fmt.Errorf("read table registry: %w", err)
		}
	}
	var infos []TableInfo
	upper := timely.Minimum()
	uppers := map[timely.GlobalId]timely.Frontier{}
	for _, e := range entries {
		info, err := decodeRecord(e)
		if err != nil {
			return nil, timely.Frontier{}, err
		}
		sh.records[info.Id] = e.Value
		if !info.Dropped {
			s, err := sh.store.OpenShard(ctx, ShardName(info.Id))
			if err != nil {
				return nil, timely.Frontier{}, fmt.Errorf("open table %s: %w", info.Id, err)
			}
			sh.tables[info.Id] = s
			since, err := s.Since(ctx)
			if err != nil {
				return nil, timely.Frontier{}, fmt.Errorf("table %s since: %w", info.Id, err)
			}
			info.Since, _ = since.Time()
			if uppers[info.Id], err = s.Upper(ctx); err != nil {
				return nil, timely.Frontier{}, fmt.Errorf("table %s upper: %w", info.Id, err)
			}
			upper = upper.Join(uppers[info.Id])
		}
		infos = append(infos, info)
	}
	if upper.IsEmpty() {
		return nil, timely.Frontier{}, fmt.Errorf("%w: a live table's upper is closed", persistence.ErrCorrupt)
	}
	for id, u := range uppers {
		if err := sh.advance(ctx, id, u, upper); err != nil {
			return nil, timely.Frontier{}, err
		}
	}
	return infos, upper, nil
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

// decodeRecord decodes one registry entry.
func decodeRecord(e persistence.Update) (TableInfo, error) {
	corrupt := func(err error) error {
		return &persistence.CorruptError{Shard: RegistryShard, Key: string(e.Key), Err: err}
	}
	if e.Diff != 1 {
		return TableInfo{}, corrupt(fmt.Errorf("entry has multiplicity %d", e.Diff))
	}
	var rec messages.StorageTableRecord
	if err := proto.Unmarshal(e.Value, &rec); err != nil {
		return TableInfo{}, corrupt(err)
	}
	id, err := rec.Table.ToTimely()
	if err != nil {
		return TableInfo{}, corrupt(err)
	}
	schema, err := dataflow.SchemaFromWire(rec.Schema)
	if err != nil {
		return TableInfo{}, corrupt(err)
	}
	return TableInfo{Id: id, Schema: schema, Dropped: rec.Dropped}, nil
}

// encodeRecord encodes a registry entry deterministically.
func encodeRecord(id timely.GlobalId, schema dataflow.Schema, dropped bool) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&messages.StorageTableRecord{
		Table: messages.FromGlobalId(id), Schema: dataflow.SchemaToWire(schema), Dropped: dropped,
	})
	if err != nil {
		panic(fmt.Sprintf("storage: encode table record: %v", err))
	}
	return b
}

// writeRegistry appends one change to the registry at its next version.
func (sh *shards) writeRegistry(ctx context.Context, ups []persistence.Update) error {
	t, ok := sh.registryUpper.Time()
	if !ok {
		return fmt.Errorf("%w: table registry is closed", ErrBackend)
	}
	next := timely.At(t + 1)
	for i := range ups {
		ups[i].Ts = t
	}
	if err := sh.registry.CompareAndAppend(ctx, ups, sh.registryUpper, next); err != nil {
		return fmt.Errorf("%w: write table registry: %w", ErrBackend, err)
	}
	sh.registryUpper = next
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
}
