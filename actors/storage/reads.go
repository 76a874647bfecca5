package storage

import (
	"context"
	"fmt"
	"slices"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// readRange returns the updates of shard s at times in [lo, hi), in time
// order and consolidated per time. lo must be >= the shard's since (pass
// the since to read the contents as of since at since) and hi <= its upper.
func readRange(ctx context.Context, s persistence.Shard, lo, hi timely.Timestamp) ([]persistence.Update, error) {
	if lo >= hi {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l, err := s.Listen(ctx, timely.At(lo))
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var out []persistence.Update
	for {
		ev, err := l.Next(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range ev.Updates {
			if u.Ts < hi {
				out = append(out, u)
			}
		}
		if !ev.Progress.Admits(hi - 1) {
			return out, nil
		}
	}
}

// versionsOf merges per-table updates into versions: one per time, tables
// in id order, rows in row order. tables and ups are parallel.
func versionsOf(tables []timely.GlobalId, ups [][]persistence.Update) ([]*messages.StorageVersion, error) {
	byTime := map[timely.Timestamp]*messages.StorageVersion{}
	var times []timely.Timestamp
	for i, id := range tables {
		var cur *messages.StorageTableChanges
		var rows []rowChange
		flush := func() {
			if cur != nil {
				slices.SortFunc(rows, func(a, b rowChange) int { return a.row.Compare(b.row) })
				for _, r := range rows {
					cur.Rows = append(cur.Rows, rowDiffToWire(r.row, r.diff))
				}
			}
			cur, rows = nil, nil
		}
		var curTs timely.Timestamp
		for _, u := range ups[i] {
			if cur == nil || u.Ts != curTs {
				flush()
				v, ok := byTime[u.Ts]
				if !ok {
					v = &messages.StorageVersion{Version: uint64(u.Ts)}
					byTime[u.Ts] = v
					times = append(times, u.Ts)
				}
				cur = &messages.StorageTableChanges{Table: messages.FromGlobalId(id)}
				v.Tables = append(v.Tables, cur)
				curTs = u.Ts
			}
			row, err := dataflow.DecodeRowKey(u.Key)
			if err != nil {
				return nil, &persistence.CorruptError{Shard: ShardName(id), Key: fmt.Sprintf("%x", u.Key), Err: err}
			}
			rows = append(rows, rowChange{row: row, diff: u.Diff})
		}
		flush()
	}
	slices.Sort(times)
	out := make([]*messages.StorageVersion, len(times))
	for i, t := range times {
		out[i] = byTime[t]
	}
	return out, nil
}

// snapshotRows reads shard s as of t and returns its rows in row order.
func snapshotRows(ctx context.Context, id timely.GlobalId, s persistence.Shard, t timely.Timestamp) (*messages.StorageTableChanges, error) {
	ups, err := s.Snapshot(ctx, t)
	if err != nil {
		return nil, err
	}
	rows := make([]rowChange, len(ups))
	for i, u := range ups {
		row, err := dataflow.DecodeRowKey(u.Key)
		if err != nil {
			return nil, &persistence.CorruptError{Shard: ShardName(id), Key: fmt.Sprintf("%x", u.Key), Err: err}
		}
		rows[i] = rowChange{row: row, diff: u.Diff}
	}
	slices.SortFunc(rows, func(a, b rowChange) int { return a.row.Compare(b.row) })
	tc := &messages.StorageTableChanges{Table: messages.FromGlobalId(id), Rows: make([]*messages.StorageRowDiff, len(rows))}
	for i, r := range rows {
		tc.Rows[i] = rowDiffToWire(r.row, r.diff)
	}
	return tc, nil
}
