package environment

import (
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
	a.request(ctx, a.cfg.Storage, req, func(res any, err error) {
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
			tw.Rows = append(tw.Rows, &messages.StorageRowDiff{Row: r, Diff: &minus})
		}
	}
	return req, nil
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
