package storage

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Commit is a planned group commit: every staged write at timestamp Ts,
// moving every live table's shard from Lower to Upper = Ts+1. See
// commit_log.go for the order of the appends.
type Commit struct {
	Ts           timely.Timestamp
	Lower, Upper timely.Frontier
	// UseLog says the group changes several tables and commits through the
	// commit log (TxnsShard): Log, appended first, retracts the previous
	// logged group and holds this group's changes. A group that changes
	// at most one table does not touch the log.
	UseLog bool
	Log    []persistence.Update
	// Appends has one entry per live table, in id order; tables without
	// changes get an empty append so that every upper advances together.
	Appends []Append
	// Tokens are the staged writes' tokens, in staging order.
	Tokens []any
	// Rows counts row changes before consolidation.
	Rows int

	// changes are the consolidated changes per table, for CDC.
	changes []tableRows
	// logged is what the log holds after this commit.
	logged []persistence.Update
}

// tableRows are one table's consolidated changes of a group.
type tableRows struct {
	table timely.GlobalId
	rows  []rowChange
}

// Append is one table's part of a group commit.
type Append struct {
	Table   timely.GlobalId
	Updates []persistence.Update
}

// Delivery is a message the actor must send.
type Delivery struct {
	To  *actor.PID
	Msg proto.Message
}

// PlanCommit takes every staged write into one group commit at the
// oracle's next timestamp for now. It returns false when nothing is staged.
// The writes are no longer staged afterwards: the caller performs the
// appends and then calls ApplyCommit (or fails the writes).
func (s *State) PlanCommit(now timely.Timestamp) (*Commit, bool) {
	if len(s.pending) == 0 {
		return nil, false
	}
	lower := s.upper
	lowerTime, ok := lower.Time()
	if !ok {
		panic("storage: commit with a closed upper")
	}
	ts := s.oracle.Next(max(now, lowerTime))
	upperTime, ok := ts.StepForward()
	if !ok {
		panic("storage: timestamps exhausted")
	}
	c := &Commit{Ts: ts, Lower: lower, Upper: timely.At(upperTime)}

	byTable := map[timely.GlobalId][]rowChange{}
	for _, st := range s.pending {
		c.Tokens = append(c.Tokens, st.token)
		c.Rows += st.write.rows
		for _, tw := range st.write.tables {
			byTable[tw.table] = append(byTable[tw.table], tw.rows...)
		}
	}
	s.pending = nil

	for _, id := range s.LiveTables() {
		rows := consolidateChanges(byTable[id])
		ups := make([]persistence.Update, len(rows))
		for i, r := range rows {
			ups[i] = persistence.Update{Key: r.key, Ts: ts, Diff: r.diff}
		}
		if len(rows) > 0 {
			c.changes = append(c.changes, tableRows{table: id, rows: rows})
		}
		c.Appends = append(c.Appends, Append{Table: id, Updates: ups})
	}
	c.logged = s.logged
	if len(c.changes) > 1 || s.alwaysLog {
		// Several tables (or a fenced writer, fence.go): the commit log
		// carries the group.
		c.UseLog = true
		for _, u := range s.logged {
			c.Log = append(c.Log, persistence.Update{Key: u.Key, Ts: ts, Diff: -u.Diff})
		}
		c.logged = nil
		for _, tr := range c.changes {
			for _, r := range tr.rows {
				c.logged = append(c.logged, persistence.Update{Key: logKey(tr.table, r.key), Ts: ts, Diff: r.diff})
			}
		}
		c.Log = append(c.Log, c.logged...)
	}
	return c, true
}

// ApplyCommit records a group commit whose appends all succeeded: the
// common upper moves to c.Upper. It returns the CDC batches and progress
// for every subscription.
func (s *State) ApplyCommit(c *Commit) []Delivery {
	s.upper = c.Upper
	s.logged = c.logged
	if len(s.subs) == 0 {
		return nil
	}
	v := &messages.StorageVersion{Version: uint64(c.Ts)}
	for _, tr := range c.changes {
		v.Tables = append(v.Tables, tableChanges(tr.table, tr.rows))
	}
	return s.publish(v)
}

// consolidateChanges sums the diffs of equal rows and drops zeros; the
// order is the first appearance of each row (tableChanges sorts for CDC).
func consolidateChanges(rows []rowChange) []rowChange {
	if len(rows) == 0 {
		return nil
	}
	sum := make(map[string]int, len(rows))
	out := make([]rowChange, 0, len(rows))
	for _, r := range rows {
		if i, ok := sum[string(r.key)]; ok {
			out[i].diff += r.diff
			continue
		}
		sum[string(r.key)] = len(out)
		out = append(out, r)
	}
	return slices.DeleteFunc(out, func(r rowChange) bool { return r.diff == 0 })
}

// tableChanges encodes one table's changes (of a commit, a snapshot or one
// version of a range read) in row order. It sorts rows in place.
func tableChanges(id timely.GlobalId, rows []rowChange) *messages.StorageTableChanges {
	slices.SortFunc(rows, func(a, b rowChange) int { return a.row.Compare(b.row) })
	tc := &messages.StorageTableChanges{Table: messages.FromGlobalId(id), Rows: make([]*messages.StorageRowDiff, len(rows))}
	for i, r := range rows {
		tc.Rows[i] = rowDiffToWire(r.row, r.diff)
	}
	return tc
}

func rowDiffToWire(row dataflow.Row, diff int64) *messages.StorageRowDiff {
	return &messages.StorageRowDiff{Row: dataflow.RowToWire(row), Diff: proto.Int64(diff)}
}
