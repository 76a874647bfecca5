package storage

import (
	"fmt"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// table is one table as State knows it.
type table struct {
	id      timely.GlobalId
	schema  dataflow.Schema
	dropped bool
	// since is the since last applied to the table's shard.
	since timely.Timestamp
	// collection: a storage collection (StorageCreateCollection), written
	// by StorageAppend at its own upper; tables share State.upper.
	collection bool
	upper      timely.Frontier
	// appendOnly: a table whose writes may only insert
	// (StorageCreateTable.append_only); DecodeWrite refuses a retraction.
	appendOnly bool
}

// TableInfo describes a table for the actor and for recovery.
type TableInfo struct {
	Id      timely.GlobalId
	Schema  dataflow.Schema
	Dropped bool
	Since   timely.Timestamp
	// Collection: a storage collection, whose own upper is Upper.
	Collection bool
	Upper      timely.Frontier
	// AppendOnly: a table that only gains rows.
	AppendOnly bool
}

// ShardName is the name of a table's shard in the Store: "table-<id>".
func ShardName(id timely.GlobalId) string { return "table-" + id.String() }

// RegistryShard is the name of the shard that records the tables.
const RegistryShard = "storage-tables"

// checkSchema rejects schemas a table cannot have.
func checkSchema(id timely.GlobalId, s dataflow.Schema) error {
	if len(s) == 0 {
		return onTable(id, errorf(ErrMalformed, "table %s: schema has no columns", id))
	}
	seen := map[string]int{}
	for i, c := range s {
		if c.Name == "" {
			return onTable(id, errorf(ErrMalformed, "table %s: column #%d has no name", id, i))
		}
		if j, ok := seen[c.Name]; ok {
			return onTable(id, errorf(ErrMalformed, "table %s: columns #%d and #%d are both named %q", id, j, i, c.Name))
		}
		seen[c.Name] = i
	}
	return nil
}

// lookup returns the live table id, or an error naming why it cannot be
// used.
func (s *State) lookup(id timely.GlobalId) (*table, error) {
	t, ok := s.tables[id]
	switch {
	case !ok:
		return nil, onTable(id, errorf(ErrUnknownTable, "table %s does not exist", id))
	case t.dropped:
		return nil, onTable(id, errorf(ErrTableDropped, "table %s was dropped", id))
	}
	return t, nil
}

// CheckCreate reports whether a table id with schema may be created.
func (s *State) CheckCreate(id timely.GlobalId, schema dataflow.Schema) error {
	if t, ok := s.tables[id]; ok {
		if t.dropped {
			return onTable(id, errorf(ErrTableExists, "table %s existed and was dropped; ids are not reused", id))
		}
		return onTable(id, errorf(ErrTableExists, "table %s already exists", id))
	}
	return checkSchema(id, schema)
}

// CreateTable records a table the actor created durably (its shard at the
// common upper, its registry entry written); appendOnly makes DecodeWrite
// refuse its retractions.
func (s *State) CreateTable(id timely.GlobalId, schema dataflow.Schema, appendOnly bool) {
	s.tables[id] = &table{id: id, schema: schema, appendOnly: appendOnly}
}

// CheckDrop reports whether table id may be dropped.
func (s *State) CheckDrop(id timely.GlobalId) error {
	_, err := s.lookup(id)
	return err
}

// DropTable marks table id dropped (its registry entry durably says so)
// and returns the notices for the subscriptions that read it. Staged
// writes must have been committed first (the actor commits before a drop).
func (s *State) DropTable(id timely.GlobalId) []Delivery {
	t, ok := s.tables[id]
	if !ok || t.dropped {
		return nil
	}
	if len(s.pending) > 0 {
		panic(fmt.Sprintf("storage: drop of %s with %d staged writes", id, len(s.pending)))
	}
	t.dropped = true
	return s.droppedNotices(id)
}

// LiveTables returns the ids of the live tables in id order (not the
// collections: "every table" never includes them).
func (s *State) LiveTables() []timely.GlobalId {
	return s.live(false)
}

// LiveCollections returns the ids of the live collections in id order.
func (s *State) LiveCollections() []timely.GlobalId {
	return s.live(true)
}

func (s *State) live(collections bool) []timely.GlobalId {
	ids := make([]timely.GlobalId, 0, len(s.tables))
	for id, t := range s.tables {
		if !t.dropped && t.collection == collections {
			ids = append(ids, id)
		}
	}
	sortIds(ids)
	return ids
}

// upperOf returns the upper of a table (the common one) or of a
// collection (its own).
func (s *State) upperOf(t *table) timely.Frontier {
	if t.collection {
		return t.upper
	}
	return s.upper
}

// uppersOf returns the least upper of the named live tables and
// collections (the common upper when there are none).
func (s *State) uppersOf(ids []timely.GlobalId) timely.Frontier {
	upper, first := s.upper, true
	for _, id := range ids {
		t, ok := s.tables[id]
		if !ok {
			continue
		}
		if first {
			upper, first = s.upperOf(t), false
		} else {
			upper = upper.Meet(s.upperOf(t))
		}
	}
	return upper
}

// Schema returns a live table's schema.
func (s *State) Schema(id timely.GlobalId) (dataflow.Schema, error) {
	t, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	return t.schema, nil
}

// Frontiers returns a live table's since and the common upper.
func (s *State) Frontiers(id timely.GlobalId) (since, upper timely.Frontier, err error) {
	t, err := s.lookup(id)
	if err != nil {
		return since, upper, err
	}
	return timely.At(t.since), s.upperOf(t), nil
}

// Info describes table id (live or dropped) as the registry records it.
func (s *State) Info(id timely.GlobalId) (TableInfo, bool) {
	t, ok := s.tables[id]
	if !ok {
		return TableInfo{}, false
	}
	return TableInfo{Id: t.id, Schema: t.schema, Dropped: t.dropped, Since: t.since, Collection: t.collection, Upper: t.upper, AppendOnly: t.appendOnly}, true
}

// IsCollection reports whether id names a collection (live or dropped).
func (s *State) IsCollection(id timely.GlobalId) bool {
	t, ok := s.tables[id]
	return ok && t.collection
}
