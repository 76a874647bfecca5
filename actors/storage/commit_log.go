package storage

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/arbor-db/arbor/persistence"

	"github.com/arbor-db/arbor/timely"
)

// The commit log (TxnsShard) makes a group commit atomic across tables:
// table shards are separate persistence shards, so no single append can
// cover them. Every group commit moves every live table from the common
// upper L to ts+1:
//
//   - A group that changes several tables is appended, whole, to the log
//     first (from the log's upper to ts+1); that append is the commit
//     point. Then every table is appended. The log append also retracts
//     the previous logged group, so the log holds only the last logged
//     group and stays small once compacted.
//   - A group that changes at most one table does not touch the log: all
//     table appends run at once, and the changed table's append is the
//     commit point (one shard, one atomic append).
//
// Recovery (recoverUppers) after a crash between the appends: let U be the
// greatest upper among the log and the live tables. Every group before the
// last was applied everywhere. If the log is at U, the last group was
// logged: each table behind U gets its part of the log's contents. If the
// log is behind U, the last group changed at most one table; every table
// behind U gets an empty append (a changed table still behind U means the
// write never became durable, and its writer was never told otherwise).
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

// appendLog appends a group to the commit log, from its upper to upper;
// the caller classifies its error (asFence).
func (sh *shards) appendLog(ctx context.Context, ups []persistence.Update, upper timely.Frontier) error {
	if err := sh.txns.CompareAndAppend(ctx, ups, sh.txnsUpper, upper); err != nil {
		return err // classified by the caller (asFence, fence.go)
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
