package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// recovered is what openShards found.
type recovered struct {
	tables []TableInfo
	// upper is the common upper of the live tables after recovery.
	upper timely.Frontier
	// logged is the commit log's last group.
	logged []persistence.Update
}

// openMode is how openShards opens: read-only (no appends at all), or as
// the writer holding token (nil: an unfenced store of its own).
type openMode struct {
	readOnly bool
	token    *durable.FenceToken
}

// openShards opens the registry, the commit log and every live table's
// shard, and completes the last group commit on every table it did not
// reach (see commit_log.go), so the live tables share the log's upper.
// callTimeout is the deadline the actor later gives each call on them.
//
// A read-only open appends nothing: the common upper is the least upper of
// the live tables, where every table is complete. A fenced open (mode.token
// set) fails with a *FenceError when the commit log holds a newer writer's
// token, and otherwise records its token there (fence.go) unless it is
// there already.
//
// A fenced open races the writer it takes over from, which may still be
// committing until it notices the fence: a lost compare-and-append while
// completing the last group or writing the fence record starts the open
// over (at most maxOpenRaces times, within ctx).
func openShards(ctx context.Context, store persistence.Store, callTimeout time.Duration, mode openMode) (*shards, recovered, error) {
	for attempt := 1; ; attempt++ {
		sh := &shards{store: store, timeout: callTimeout, records: map[timely.GlobalId][]byte{}, tables: map[timely.GlobalId]persistence.Shard{}}
		rec, err := sh.open(ctx, mode)
		if err == nil {
			return sh, rec, nil
		}
		sh.close()
		var mismatch *persistence.UpperMismatchError
		if mode.token == nil || !errors.As(err, &mismatch) || attempt >= maxOpenRaces || ctx.Err() != nil {
			return nil, recovered{}, err
		}
	}
}

// maxOpenRaces bounds the opens a fenced writer starts over after losing a
// race with the writer it takes over from.
const maxOpenRaces = 100

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

func (sh *shards) open(ctx context.Context, mode openMode) (recovered, error) {
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
	group, fenceRec := splitFence(group)
	var durableFence *durable.FenceToken
	if fenceRec != nil {
		tok, err := decodeFence(fenceRec.Value)
		if err != nil {
			return recovered{}, &persistence.CorruptError{Shard: TxnsShard, Key: "fence", Err: err}
		}
		durableFence = &tok
	}
	if mode.token != nil && durableFence != nil && mode.token.Less(*durableFence) {
		return recovered{}, &FenceError{Current: *mode.token, Fence: *durableFence}
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
		switch {
		case info.Dropped:
		case info.Collection:
			// A collection keeps its own upper, outside group commit.
			if info.Since, info.Upper, err = sh.openTable(ctx, info.Id); err != nil {
				return recovered{}, err
			}
		default:
			if info.Since, uppers[info.Id], err = sh.openTable(ctx, info.Id); err != nil {
				return recovered{}, err
			}
		}
		infos = append(infos, info)
	}
	if mode.readOnly {
		first := true
		for _, u := range uppers {
			if first {
				upper, first = u, false
			}
			upper = upper.Meet(u)
		}
		return recovered{tables: infos, upper: upper, logged: group}, nil
	}
	upper, err = sh.recoverUppers(ctx, upper, uppers, byTable)
	if err != nil {
		return recovered{}, err
	}
	if mode.token != nil && (durableFence == nil || durableFence.Less(*mode.token)) {
		ids := make([]timely.GlobalId, 0, len(uppers))
		for id := range uppers {
			ids = append(ids, id)
		}
		sortIds(ids)
		if upper, err = sh.writeFence(ctx, upper, ids, group, fenceRec, *mode.token); err != nil {
			return recovered{}, err
		}
		group = nil
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
