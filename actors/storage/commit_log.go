package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/arbor-db/arbor/timely"
)

// The commit log (TxnsShard) makes a group commit atomic across tables:
// table shards are separate persistence shards, so no single append can
// cover them. A group is first appended, whole, to the log in one
// CompareAndAppend at [upper, ts+1); that append is the commit point. Then
// every table shard is appended. If the actor dies in between, recovery
// finds tables whose upper is behind the log's and appends their part of
// the log's last group. Each group also retracts the previous group's
// entries, so the log's contents are only the latest group and stay small
// once compacted.
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
