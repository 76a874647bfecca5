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

// versionsOf merges per-table updates into versions: one per time, tables
// in id order, rows in row order. tables and ups are parallel; each
// table's updates are in time order (readRange).
func versionsOf(tables []timely.GlobalId, ups [][]persistence.Update) ([]*messages.StorageVersion, error) {
	byTime := map[timely.Timestamp]*messages.StorageVersion{}
	var times []timely.Timestamp
	for i, id := range tables {
		for us := ups[i]; len(us) > 0; {
			ts, n := us[0].Ts, 1
			for n < len(us) && us[n].Ts == ts {
				n++
			}
			rows, err := decodeRows(id, us[:n])
			if err != nil {
				return nil, err
			}
			v, ok := byTime[ts]
			if !ok {
				v = &messages.StorageVersion{Version: uint64(ts)}
				byTime[ts] = v
				times = append(times, ts)
			}
			v.Tables = append(v.Tables, tableChanges(id, rows))
			us = us[n:]
		}
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
	rows, err := decodeRows(id, ups)
	if err != nil {
		return nil, err
	}
	return tableChanges(id, rows), nil
}

// decodeRows decodes the shard keys of table id's updates into rows.
func decodeRows(id timely.GlobalId, ups []persistence.Update) ([]rowChange, error) {
	rows := make([]rowChange, len(ups))
	for i, u := range ups {
		row, err := dataflow.DecodeRowKey(u.Key)
		if err != nil {
			return nil, &persistence.CorruptError{Shard: ShardName(id), Key: fmt.Sprintf("%x", u.Key), Err: err}
		}
		rows[i] = rowChange{row: row, diff: u.Diff}
	}
	return rows, nil
}
