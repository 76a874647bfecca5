package storage

import (
	"fmt"
	"slices"
	"strings"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Write is a decoded and validated StorageWrite: changes per table, tables
// in id order.
type Write struct {
	tables []tableWrite
	rows   int
}

// Rows returns how many row changes the write holds.
func (w Write) Rows() int { return w.rows }

type tableWrite struct {
	table timely.GlobalId
	rows  []rowChange
}

// rowChange is one validated row change with the row's shard key.
type rowChange struct {
	row  dataflow.Row
	key  []byte
	diff int64
}

// staged is a write waiting for the next group commit, with the caller's
// token (the actor's reply target).
type staged struct {
	write Write
	token any
}

// DecodeWrite decodes and validates a StorageWrite against the tables'
// schemas. Any problem rejects the whole write; the error names the table,
// the row index (within that table's rows) and the column. A negative diff
// for an append-only table is ErrAppendOnly.
func (s *State) DecodeWrite(m *messages.StorageWrite) (Write, error) {
	if m == nil || len(m.Tables) == 0 {
		return Write{}, errorf(ErrMalformed, "write names no table")
	}
	var w Write
	index := map[timely.GlobalId]int{}
	for i, tw := range m.Tables {
		if tw == nil || tw.Table == nil {
			return Write{}, errorf(ErrMalformed, "write entry %d names no table", i)
		}
		id, err := tw.Table.ToTimely()
		if err != nil {
			return Write{}, fmt.Errorf("%w: write entry %d: %w", ErrMalformed, i, err)
		}
		t, err := s.lookup(id)
		if err != nil {
			return Write{}, err
		}
		if t.collection {
			return Write{}, onTable(id, errorf(ErrWrongKind, "write entry %d: %s is a collection: append to it with StorageAppend", i, id))
		}
		at, ok := index[id]
		if !ok {
			at = len(w.tables)
			index[id] = at
			w.tables = append(w.tables, tableWrite{table: id})
		}
		for j, rd := range tw.Rows {
			rc, err := decodeRowChange(t, j, rd)
			if err != nil {
				return Write{}, err
			}
			w.tables[at].rows = append(w.tables[at].rows, rc)
			w.rows++
		}
	}
	slices.SortFunc(w.tables, func(a, b tableWrite) int { return a.table.Compare(b.table) })
	return w, nil
}

func decodeRowChange(t *table, j int, rd *messages.StorageRowDiff) (rowChange, error) {
	if rd == nil || rd.Row == nil {
		return rowChange{}, onTable(t.id, errorf(ErrMalformed, "table %s row %d: row is missing", t.id, j))
	}
	diff := int64(1)
	if rd.Diff != nil {
		diff = *rd.Diff
	}
	if diff == 0 {
		return rowChange{}, onTable(t.id, errorf(ErrMalformed, "table %s row %d: diff is 0", t.id, j))
	}
	row, err := dataflow.RowFromWire(rd.Row)
	if err != nil {
		return rowChange{}, onTable(t.id, fmt.Errorf("%w: table %s row %d: %w", ErrMalformed, t.id, j, err))
	}
	if err := t.schema.Validate(row); err != nil {
		// The dataflow error names the column; drop its own prefix.
		msg := strings.TrimPrefix(err.Error(), dataflow.ErrInvalidRow.Error()+": ")
		return rowChange{}, onTable(t.id, fmt.Errorf("%w: table %s row %d: %s", ErrInvalidRow, t.id, j, msg))
	}
	if diff < 0 && t.appendOnly {
		// Refused even when an insertion in the same write would cancel
		// it: the table's readers rely on every change being an insertion.
		return rowChange{}, onTable(t.id, errorf(ErrAppendOnly, "table %s row %d: diff %d would retract %s; the table only takes insertions", t.id, j, diff, row))
	}
	return rowChange{row: row, key: dataflow.EncodeRowKey(row), diff: diff}, nil
}

// Stage adds a validated write to the next group commit. token comes back
// in the Commit so the caller can answer the writer.
func (s *State) Stage(w Write, token any) {
	s.pending = append(s.pending, staged{write: w, token: token})
}

// Unstage drops the staged writes without committing them and returns
// their tokens in staging order, for the caller to fail the writers.
func (s *State) Unstage() []any {
	tokens := make([]any, len(s.pending))
	for i, st := range s.pending {
		tokens[i] = st.token
	}
	s.pending = nil
	return tokens
}
