package client

import (
	"context"
	"fmt"
	"time"

	"github.com/arbor-db/arbor/messages"
)

// TableSpec describes a table to create.
type TableSpec struct {
	Name    string
	Columns []Column
	// Key names the columns that identify a row (recorded, not enforced).
	Key []string
	// IfNotExists makes an existing table of that name not an error.
	IfNotExists bool
	// AppendOnly declares that the table only ever gains rows (an event
	// stream): a write that deletes or updates its rows is refused with
	// ErrInvalidArgument and applies nothing, and the views, indexes and
	// materialized views that read it keep less state (docs/dataflow.md,
	// append-only sources). It cannot be changed after creation.
	AppendOnly bool
}

// CreateTable creates a table and returns it. A taken name is
// ErrAlreadyExists; a bad spec ErrInvalidArgument.
func (c *Client) CreateTable(ctx context.Context, spec TableSpec) (Object, error) {
	schema, err := schemaToWire(spec.Columns)
	if err != nil {
		return Object{}, fmt.Errorf("create table %q: %w", spec.Name, err)
	}
	resp, err := call[*messages.ClientCreateTableResponse](ctx, c, "create table", &messages.ClientCreateTable{
		Name: spec.Name, Schema: schema, KeyColumns: spec.Key, IfNotExists: spec.IfNotExists,
		AppendOnly: spec.AppendOnly})
	if err != nil {
		return Object{}, err
	}
	return objectFromWire(resp.GetObject()), nil
}

// Drop drops the named object of type t. An unknown name is ErrNotFound
// unless ifExists; dropped reports whether something was dropped.
func (c *Client) Drop(ctx context.Context, t ObjectType, name string, ifExists bool) (dropped bool, err error) {
	resp, err := call[*messages.ClientDropResponse](ctx, c, "drop", &messages.ClientDrop{Type: t, Name: name, IfExists: ifExists})
	if err != nil {
		return false, err
	}
	return resp.GetDropped(), nil
}

// DropTable drops a table; an unknown name is ErrNotFound.
func (c *Client) DropTable(ctx context.Context, name string) error {
	_, err := c.Drop(ctx, Table, name, false)
	return err
}

// TableWrite is the rows one write inserts into and deletes from a table.
type TableWrite struct {
	Table   string
	Inserts []Row
	// Deletes each remove one copy of an equal row. An append-only table
	// takes none (ErrInvalidArgument).
	Deletes []Row
	// Updates each replace, by the table's key columns, every row holding
	// its key when the write applies (an insert when none does). The table
	// must have key columns and must not be append-only.
	Updates []Row
}

// Write commits changes to one or more tables atomically and returns the
// timestamp they are visible at. A row that does not fit its table is
// ErrInvalidRow (and nothing is written).
func (c *Client) Write(ctx context.Context, writes ...TableWrite) (uint64, error) {
	req := &messages.ClientWrite{}
	for _, w := range writes {
		tr := &messages.ClientTableRows{Table: w.Table}
		for i, r := range w.Inserts {
			wr, err := RowToWire(r)
			if err != nil {
				return 0, fmt.Errorf("write: table %q insert %d: %w", w.Table, i, err)
			}
			tr.Inserts = append(tr.Inserts, wr)
		}
		for i, r := range w.Deletes {
			wr, err := RowToWire(r)
			if err != nil {
				return 0, fmt.Errorf("write: table %q delete %d: %w", w.Table, i, err)
			}
			tr.Deletes = append(tr.Deletes, wr)
		}
		for i, r := range w.Updates {
			wr, err := RowToWire(r)
			if err != nil {
				return 0, fmt.Errorf("write: table %q update %d: %w", w.Table, i, err)
			}
			tr.Updates = append(tr.Updates, wr)
		}
		req.Tables = append(req.Tables, tr)
	}
	resp, err := call[*messages.ClientWriteResponse](ctx, c, "write", req)
	if err != nil {
		return 0, err
	}
	return resp.GetTimestamp(), nil
}

// Insert writes rows into one table; see Write.
func (c *Client) Insert(ctx context.Context, table string, rows ...Row) (uint64, error) {
	return c.Write(ctx, TableWrite{Table: table, Inserts: rows})
}

// Update replaces, by the table's key columns, the rows holding each row's
// key (inserting it when none does), atomically; see Write.
func (c *Client) Update(ctx context.Context, table string, rows ...Row) (uint64, error) {
	return c.Write(ctx, TableWrite{Table: table, Updates: rows})
}

// Delete removes one copy of each row from one table; see Write.
func (c *Client) Delete(ctx context.Context, table string, rows ...Row) (uint64, error) {
	return c.Write(ctx, TableWrite{Table: table, Deletes: rows})
}

// List returns the catalog's objects of type t (every type for
// AnyObject), ordered by name.
func (c *Client) List(ctx context.Context, t ObjectType) ([]Object, error) {
	resp, err := call[*messages.ClientListObjectsResponse](ctx, c, "list objects", &messages.ClientListObjects{Type: t})
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(resp.GetObjects()))
	for _, o := range resp.GetObjects() {
		out = append(out, objectFromWire(o))
	}
	return out, nil
}

// Dump returns the environment's state as JSON, for debugging.
func (c *Client) Dump(ctx context.Context) ([]byte, error) {
	resp, err := call[*messages.ClientDumpResponse](ctx, c, "dump", &messages.ClientDump{})
	if err != nil {
		return nil, err
	}
	return resp.GetJson(), nil
}

// Cancel cancels every statement of this session still running in the
// environment; they fail with ErrCanceled.
func (c *Client) Cancel(ctx context.Context) error {
	_, err := call[*messages.ClientCancelResponse](ctx, c, "cancel", &messages.ClientCancel{})
	return err
}

// SetStatementTimeout changes the session's statement timeout (0 restores
// the environment's default) and returns the timeout in force.
func (c *Client) SetStatementTimeout(ctx context.Context, d time.Duration) (time.Duration, error) {
	resp, err := call[*messages.ClientSetStatementTimeoutResponse](ctx, c, "set statement timeout",
		&messages.ClientSetStatementTimeout{TimeoutMs: uint64(d / time.Millisecond)})
	if err != nil {
		return 0, err
	}
	return time.Duration(resp.GetTimeoutMs()) * time.Millisecond, nil
}
