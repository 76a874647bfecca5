package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/arbor-db/arbor/timely"
)

// The commit log (TxnsShard) makes a group commit atomic across tables:
// table shards are separate persistence shards, so no single append can
// cover them. Every group commit moves the log and every live table from
// the common upper L to ts+1, in one of two orders:
//
//   - A group that changes several tables is appended, whole, to the log
//     first; that append is the commit point. Then every table is
//     appended.
//   - A group that changes at most one table appends that table first (the
//     commit point: one shard, one atomic append), then the log (without
//     the changes) and the other tables.
//
// Each group also retracts the previous group's log entries, so the log
// holds only the last group's changes (none after a one-table group) and
// stays small once compacted.
//
// Recovery (recoverUppers) after a crash between the appends: let U be the
// greatest upper among the log and the live tables. If the log is at U,
// its contents are the last group's changes (if any): each table behind U
// gets its part of them. If the log is behind U, the last group changed
// one table, which is at U; every shard behind U gets an empty append.
// Either way the group is in every table or in none, and all are at U.
//
// A log key is the table id (kind byte, big-endian number) then the row's
// shard key.

// TxnsShard is the name of the commit log shard.
const TxnsShard = "storage-txns"

const logKeyPrefix = 9

// logKey returns the commit log key of a row of table id.
func logKey(id timely.GlobalId, rowKey []byte) []byte {
	k := make([]byte, 0, logKeyPrefix+len(rowKey))
	k = append(k, byte(id.Kind))
	k = binary.BigEndian.AppendUint64(k, id.Value)
	return append(k, rowKey...)
}

// splitLogKey returns the table id and row key of a commit log key.
func splitLogKey(k []byte) (timely.GlobalId, []byte, error) {
	if len(k) < logKeyPrefix {
		return timely.GlobalId{}, nil, fmt.Errorf("commit log key of %d bytes", len(k))
	}
	id := timely.GlobalId{Kind: timely.IdKind(k[0]), Value: binary.BigEndian.Uint64(k[1:logKeyPrefix])}
	if !id.Kind.Valid() {
		return timely.GlobalId{}, nil, fmt.Errorf("commit log key with id kind %q", k[0])
	}
	return id, k[logKeyPrefix:], nil
}
