package environment

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// handleWrite checks every row of a write against its table's schema and
// sends the write to storage as one transaction.
func (a *envActor) handleWrite(ctx actor.Context, m *messages.ClientWrite, sender *actor.PID) {
	if _, err := a.session(m.GetConn()); err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	req, err := a.storageWrite(m)
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	a.commitWrite(ctx, m, sender, req, func() {})
}

// commitWrite sends a checked write to storage, answers the client, then
// calls after.
func (a *envActor) commitWrite(ctx actor.Context, m *messages.ClientWrite, sender *actor.PID, req *messages.StorageWrite, after func()) {
	a.request(ctx, a.cfg.Storage, req, func(res any, err error) {
		defer after()
		if err == nil {
			if r, ok := res.(*messages.StorageWriteResponse); !ok {
				err = errorf(ErrInternal, "storage answered %T", res)
			} else if err = storageError(r.GetError()); err == nil {
				a.core.ObserveWrite(r.GetTimestamp())
				a.reply(ctx, sender, "write", &messages.ClientWriteResponse{Timestamp: r.GetTimestamp()}, nil)
				return
			}
		}
		a.fail(ctx, m, sender, fmt.Errorf("write: %w", err))
	})
}

// storageWrite resolves a write's table names and validates its rows. A
// table named twice gets one entry with both parts.
func (a *envActor) storageWrite(m *messages.ClientWrite) (*messages.StorageWrite, error) {
	if len(m.GetTables()) == 0 {
		return nil, errorf(ErrInvalidRequest, "write: it names no table")
	}
	req := &messages.StorageWrite{}
	byTable := map[timely.GlobalId]*messages.StorageTableWrite{}
	minus := int64(-1)
	for _, t := range m.GetTables() {
		o, err := a.core.Resolve(t.GetTable())
		if err != nil {
			return nil, fmt.Errorf("write: %w", err)
		}
		if o.typ != messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE {
			return nil, errorf(ErrInvalidRequest, "write: %q is a %s; only tables take writes", o.name, typeName(o.typ))
		}
		tw, ok := byTable[o.id]
		if !ok {
			tw = &messages.StorageTableWrite{Table: messages.FromGlobalId(o.id)}
			byTable[o.id] = tw
			req.Tables = append(req.Tables, tw)
		}
		for i, r := range t.GetInserts() {
			if err := checkRow(o, "insert", i, r); err != nil {
				return nil, err
			}
			tw.Rows = append(tw.Rows, &messages.StorageRowDiff{Row: r})
		}
		for i, r := range t.GetDeletes() {
			if err := checkRow(o, "delete", i, r); err != nil {
				return nil, err
			}
			if o.appendOnly {
				return nil, appendOnlyError(o, "delete", i, r, "a delete retracts the row")
			}
			tw.Rows = append(tw.Rows, &messages.StorageRowDiff{Row: r, Diff: &minus})
		}
		if len(t.GetUpdates()) > 0 && len(o.keys) == 0 {
			return nil, errorf(ErrInvalidRequest, "write: table %q has no key columns; it takes inserts and deletes, not updates", o.name)
		}
		for i, r := range t.GetUpdates() {
			if err := checkRow(o, "update", i, r); err != nil {
				return nil, err
			}
			if o.appendOnly {
				// Refused whether or not a row holds its key now: what a
				// write may do to the table does not depend on its contents.
				return nil, appendOnlyError(o, "update", i, r, "an update replaces rows")
			}
			// The update's new row; the rows it replaces are retracted by
			// handleUpdate once it has read them.
			tw.Rows = append(tw.Rows, &messages.StorageRowDiff{Row: r})
		}
	}
	return req, nil
}

// handleUpdate serves a write with updates (one at a time, in the
// statement queue): it reads the updated tables at their latest time,
// retracts every row holding an updated key, and commits that with the
// rest of the write as one transaction.
func (a *envActor) handleUpdate(ctx actor.Context, m *messages.ClientWrite, sender *actor.PID) {
	done := func() { a.ddlDone(ctx) }
	if _, err := a.session(m.GetConn()); err != nil {
		a.fail(ctx, m, sender, err)
		done()
		return
	}
	req, err := a.storageWrite(m)
	if err != nil {
		a.fail(ctx, m, sender, err)
		done()
		return
	}
	// The keys each updated table replaces, by table id.
	type keyed struct {
		obj  *object
		idx  []uint32
		keys map[string]bool
	}
	updated := map[timely.GlobalId]*keyed{}
	snap := &messages.StorageSnapshot{}
	for _, t := range m.GetTables() {
		if len(t.GetUpdates()) == 0 {
			continue
		}
		o, _ := a.core.Resolve(t.GetTable()) // storageWrite resolved it
		k, ok := updated[o.id]
		if !ok {
			_, idx, err := keyColumns(o.keys, o)
			if err != nil {
				a.fail(ctx, m, sender, fmt.Errorf("write: %w", err))
				done()
				return
			}
			k = &keyed{obj: o, idx: idx, keys: map[string]bool{}}
			updated[o.id] = k
			snap.Tables = append(snap.Tables, messages.FromGlobalId(o.id))
		}
		for i, w := range t.GetUpdates() {
			row, _ := dataflow.RowFromWire(w) // checked by storageWrite
			key := string(dataflow.EncodeRowKey(projectRow(row, k.idx)))
			if k.keys[key] {
				a.fail(ctx, m, sender, errorf(ErrInvalidRequest, "write: table %q update %d: its key is updated twice in one write", o.name, i))
				done()
				return
			}
			k.keys[key] = true
		}
	}
	a.request(ctx, a.cfg.Storage, snap, func(res any, err error) {
		var r *messages.StorageSnapshotResponse
		if err == nil {
			var ok bool
			if r, ok = res.(*messages.StorageSnapshotResponse); !ok {
				err = errorf(ErrInternal, "storage answered %T", res)
			} else if e := storageError(r.GetError()); e != nil && !errors.Is(e, messages.ErrNotYetReadable) {
				err = e // not yet readable: nothing was ever written
			}
		}
		if err != nil {
			a.fail(ctx, m, sender, fmt.Errorf("write: read the updated rows: %w", err))
			done()
			return
		}
		byTable := map[timely.GlobalId]*messages.StorageTableWrite{}
		for _, tw := range req.Tables {
			id, _ := tw.GetTable().ToTimely()
			byTable[id] = tw
		}
		for _, tc := range r.GetTables() {
			id, _ := tc.GetTable().ToTimely()
			k := updated[id]
			if k == nil {
				continue
			}
			for _, rd := range tc.GetRows() {
				row, err := dataflow.RowFromWire(rd.GetRow())
				if err != nil {
					a.fail(ctx, m, sender, errorf(ErrInternal, "write: table %q holds an undecodable row: %v", k.obj.name, err))
					done()
					return
				}
				if !k.keys[string(dataflow.EncodeRowKey(projectRow(row, k.idx)))] {
					continue
				}
				retract := -rd.GetDiff()
				byTable[id].Rows = append(byTable[id].Rows, &messages.StorageRowDiff{Row: rd.GetRow(), Diff: &retract})
			}
		}
		// The next statement starts only once this write is durable (or
		// failed), so it reads what this one wrote.
		a.commitWrite(ctx, m, sender, req, done)
	})
}

// projectRow returns the columns idx of row.
func projectRow(row dataflow.Row, idx []uint32) dataflow.Row {
	out := make(dataflow.Row, len(idx))
	for i, j := range idx {
		out[i] = row[j]
	}
	return out
}

// appendOnlyError refuses row i of a write's part what ("delete",
// "update") on append-only table o, naming the table and the row.
func appendOnlyError(o *object, what string, i int, w *messages.Row, why string) error {
	row, _ := dataflow.RowFromWire(w) // checkRow decoded it
	return messages.WithObject(errorf(ErrAppendOnly, "write: table %q %s %d %s: %s; the table takes inserts only",
		o.name, what, i, row, why), o.name)
}

// checkRow validates one row of a write, naming the table, the row and the
// column on failure.
func checkRow(o *object, what string, i int, w *messages.Row) error {
	row, err := dataflow.RowFromWire(w)
	if err != nil {
		return errorf(ErrInvalidRow, "table %q %s %d: %v", o.name, what, i, err)
	}
	if err := o.schema.Validate(row); err != nil {
		return errorf(ErrInvalidRow, "table %q %s %d: %v", o.name, what, i, err)
	}
	return nil
}
