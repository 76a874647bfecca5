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
	// txns is the commit log (commit_log.go); txnsSince and txnsUpper its
	// frontiers (the log's upper trails the tables' after one-table
	// groups).
	txns      persistence.Shard
	txnsSince timely.Timestamp
	txnsUpper timely.Frontier
}

// recovered is what openShards found.
type recovered struct {
	tables []TableInfo
	// upper is the common upper of the live tables: the commit log's.
	upper timely.Frontier
	// logged is the commit log's last group.
	logged []persistence.Update
}

// openShards opens the registry, the commit log and every live table's
// shard, and completes the last group commit on every table it did not
// reach (see commit_log.go), so the live tables share the log's upper.
func openShards(ctx context.Context, store persistence.Store) (*shards, recovered, error) {
	sh := &shards{store: store, records: map[timely.GlobalId][]byte{}, tables: map[timely.GlobalId]persistence.Shard{}}
	rec, err := sh.open(ctx)
	if err != nil {
		sh.close()
		return nil, recovered{}, err
	}
	return sh, rec, nil
}

// openLog opens the commit log and returns its upper and last group.
func (sh *shards) openLog(ctx context.Context) (timely.Frontier, []persistence.Update, error) {
	txns, err := sh.store.OpenShard(ctx, TxnsShard)
	if err != nil {
		return timely.Frontier{}, nil, fmt.Errorf("open commit log: %w", err)
	}
	sh.txns = txns
	since, err := txns.Since(ctx)
	if err != nil {
		return timely.Frontier{}, nil, fmt.Errorf("read commit log since: %w", err)
	}
	sh.txnsSince, _ = since.Time()
	upper, err := txns.Upper(ctx)
	if err != nil {
		return timely.Frontier{}, nil, fmt.Errorf("read commit log upper: %w", err)
	}
	sh.txnsUpper = upper
	latest, ok := upper.StepBack()
	if !ok {
		return upper, nil, nil
	}
	t, _ := latest.Time()
	group, err := txns.Snapshot(ctx, t)
	if err != nil {
		return timely.Frontier{}, nil, fmt.Errorf("read commit log: %w", err)
	}
	return upper, group, nil
}

func (sh *shards) open(ctx context.Context) (recovered, error) {
	reg, err := sh.store.OpenShard(ctx, RegistryShard)
	if err != nil {
		return recovered{}, fmt.Errorf("open table registry: %w", err)
	}
	sh.registry = reg
	if sh.registryUpper, err = reg.Upper(ctx); err != nil {
		return recovered{}, fmt.Errorf("read table registry upper: %w", err)
	}
	var entries []persistence.Update
	if latest, ok := sh.registryUpper.StepBack(); ok {
		t, _ := latest.Time()
		if entries, err = reg.Snapshot(ctx, t); err != nil {
			return recovered{}, fmt.Errorf("read table registry: %w", err)
		}
	}
	upper, group, err := sh.openLog(ctx)
	if err != nil {
		return recovered{}, err
	}
	if upper.IsEmpty() {
		return recovered{}, fmt.Errorf("%w: the commit log's upper is closed", persistence.ErrCorrupt)
	}
	byTable := map[timely.GlobalId][]persistence.Update{}
	for _, u := range group {
		id, key, err := splitLogKey(u.Key)
		if err != nil {
			return recovered{}, &persistence.CorruptError{Shard: TxnsShard, Key: fmt.Sprintf("%x", u.Key), Err: err}
		}
		byTable[id] = append(byTable[id], persistence.Update{Key: key, Ts: u.Ts, Diff: u.Diff})
	}
	var infos []TableInfo
	uppers := map[timely.GlobalId]timely.Frontier{}
	for _, e := range entries {
		info, err := decodeRecord(e)
		if err != nil {
			return recovered{}, err
		}
		sh.records[info.Id] = e.Value
		if !info.Dropped {
			if info.Since, uppers[info.Id], err = sh.openTable(ctx, info.Id); err != nil {
				return recovered{}, err
			}
		}
		infos = append(infos, info)
	}
	upper, err = sh.recoverUppers(ctx, upper, uppers, byTable)
	if err != nil {
		return recovered{}, err
	}
	return recovered{tables: infos, upper: upper, logged: group}, nil
}

// openTable opens a live table's shard and returns its since and upper.
func (sh *shards) openTable(ctx context.Context, id timely.GlobalId) (timely.Timestamp, timely.Frontier, error) {
	s, err := sh.store.OpenShard(ctx, ShardName(id))
	if err != nil {
		return 0, timely.Frontier{}, fmt.Errorf("open table %s: %w", id, err)
	}
	sh.tables[id] = s
	since, err := s.Since(ctx)
	if err != nil {
		return 0, timely.Frontier{}, fmt.Errorf("table %s since: %w", id, err)
	}
	upper, err := s.Upper(ctx)
	if err != nil {
		return 0, timely.Frontier{}, fmt.Errorf("table %s upper: %w", id, err)
	}
	if upper.IsEmpty() {
		return 0, timely.Frontier{}, fmt.Errorf("%w: live table %s has a closed upper", persistence.ErrCorrupt, id)
	}
	t, _ := since.Time()
	return t, upper, nil
}

// recoverUppers completes the last group commit (see commit_log.go): it
// brings the log and every live table to the greatest of their uppers,
// giving each table behind it its part of the log's last group when the
// log is at that upper. It returns the common upper.
func (sh *shards) recoverUppers(ctx context.Context, logUpper timely.Frontier, uppers map[timely.GlobalId]timely.Frontier, group map[timely.GlobalId][]persistence.Update) (timely.Frontier, error) {
	upper := logUpper
	for _, u := range uppers {
		upper = upper.Join(u)
	}
	for id, u := range uppers {
		if !u.LessThan(upper) {
			continue
		}
		var ups []persistence.Update
		if logUpper == upper {
			ups = group[id]
		}
		if err := sh.tables[id].CompareAndAppend(ctx, ups, u, upper); err != nil {
			return timely.Frontier{}, fmt.Errorf("%w: complete the last group commit on table %s: %w", ErrBackend, id, err)
		}
	}
	return upper, nil
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

// appendLog appends a group to the commit log, from its upper to upper.
func (sh *shards) appendLog(ctx context.Context, ups []persistence.Update, upper timely.Frontier) error {
	if err := sh.txns.CompareAndAppend(ctx, ups, sh.txnsUpper, upper); err != nil {
		return fmt.Errorf("commit log: %w", err)
	}
	sh.txnsUpper = upper
	return nil
}

// compactLog moves the commit log's since to its latest complete time,
// keeping only the last logged group readable.
func (sh *shards) compactLog(ctx context.Context) error {
	latest, ok := sh.txnsUpper.StepBack()
	if !ok {
		return nil
	}
	t, _ := latest.Time()
	if t <= sh.txnsSince {
		return nil
	}
	if err := sh.txns.DowngradeSince(ctx, timely.At(t)); err != nil {
		return err
	}
	sh.txnsSince = t
	return nil
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
