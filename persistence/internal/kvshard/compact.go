package kvshard

import (
	"context"
	"errors"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// DowngradeSince implements persistence.Shard.
func (s *shard) DowngradeSince(ctx context.Context, since timely.Frontier) error {
	const op = "downgrade since"
	if err := s.check(op); err != nil {
		return err
	}
	sinceKey := s.keys.Since()
	for {
		// Only batches with lower < since can end at or below since.
		r := s.keys.batchesFrom(0)
		if t, ok := since.Time(); ok {
			r = s.keys.batchesThrough(t)
		}
		st, err := s.readState(ctx, op, r)
		if err != nil {
			return err
		}
		if since.LessEqual(st.since) {
			return nil // the since never regresses
		}
		cmp := metaCompare(sinceKey, st.since)
		put := Put(sinceKey, encodeFrontier(since))
		ops := append([]Op{put}, s.compaction(st, since)...)
		if len(ops) > 1 && s.checkSize(ops) != nil {
			ops = ops[:1] // too big to rewrite in one transaction: stay logical
		}
		ok, _, err := s.store.kv.Txn(ctx, []Compare{cmp}, ops)
		if errors.Is(err, persistence.ErrTooLarge) && len(ops) > 1 {
			ok, _, err = s.store.kv.Txn(ctx, []Compare{cmp}, ops[:1])
		}
		if err != nil {
			return s.errorf(op, err)
		}
		if ok {
			return nil
		}
		// Another handle moved the since meanwhile: read again and retry.
	}
}

// compaction returns the ops that merge every batch whose upper is <= since
// into the batch at lower 0, or nil when that is not worth doing yet (see
// the package doc).
func (s *shard) compaction(st state, since timely.Frontier) []Op {
	n, baseSize, mergeSize := 0, 0, 0
	for _, b := range st.batches {
		if !b.upper.LessEqual(since) {
			break // batches are in time order; the rest are not complete below since
		}
		if b.lower == 0 {
			baseSize = b.size
		} else {
			mergeSize += b.size
		}
		n++
	}
	merged := st.batches[:n]
	if n == 0 {
		return nil
	}
	start := s.keys.Batch(0)
	end := after(merged[n-1].key)
	// The merged batches' end keys go too; the compacted batch gets none: a
	// read from after the since never needs it, and a read from the since
	// scans from lower 0 (see seek.go).
	ends := s.keys.endsThrough(merged[n-1].upper)
	dropEnds := DeleteRange(ends.Start, ends.End)
	if since.IsEmpty() {
		// Nothing can be read any more: drop the history.
		return []Op{DeleteRange(start, end), dropEnds}
	}
	if mergeSize == 0 || 2*mergeSize < baseSize {
		return nil
	}
	var updates []persistence.Update
	for _, b := range merged {
		for _, u := range b.updates {
			u.Ts = advance(u.Ts, since)
			updates = append(updates, u)
		}
	}
	updates = persistence.Consolidate(updates)
	if len(updates) == 0 {
		return []Op{DeleteRange(start, end), dropEnds}
	}
	// Delete after the base key and overwrite the base: etcd refuses a put
	// inside a deleted range of the same transaction.
	val := encodeBatch(batch{upper: merged[n-1].upper, updates: updates})
	return []Op{DeleteRange(after(start), end), Put(start, val), dropEnds}
}
