package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// storageTables reads table history from the storage actor with
// StorageReadRange; it adapts the storage protocol to
// coordinator.TableReader. Each call blocks its caller (the coordinator or
// a worker) until storage answers or the timeout passes.
type storageTables struct {
	root    *actor.RootContext
	storage *actor.PID
	timeout time.Duration
}

// ReadTable implements coordinator.TableReader. It waits for storage at
// most until ctx's deadline (and at most the storage timeout), and returns
// as soon as ctx is canceled (a stopping coordinator or worker does not
// wait for storage).
func (s storageTables) ReadTable(ctx context.Context, id timely.GlobalId, from, to timely.Timestamp) ([]dataflow.Update, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: read %s [%d, %d): %w", ErrStorage, id, from, to, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// The answer goes to a one-shot inbox actor rather than a future, so
	// that the wait can also end on ctx; the inbox stops either way.
	answer := make(chan any, 1)
	inbox := s.root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case actor.SystemMessage, actor.AutoReceiveMessage:
		default:
			select {
			case answer <- m:
			default:
			}
			c.Stop(c.Self())
		}
	}))
	defer s.root.Stop(inbox)
	req := &messages.StorageReadRange{Tables: []*messages.GlobalId{messages.FromGlobalId(id)}, Lo: uint64(from), Hi: uint64(to)}
	s.root.RequestWithCustomSender(s.storage, req, inbox)
	var res any
	select {
	case res = <-answer:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: read %s [%d, %d): %w", ErrStorage, id, from, to, ctx.Err())
	}
	resp, ok := res.(*messages.StorageReadRangeResponse)
	if !ok {
		return nil, fmt.Errorf("%w: read %s: unexpected answer %T", ErrStorage, id, res)
	}
	if e := resp.GetError(); e != nil {
		return nil, fmt.Errorf("%w: read %s [%d, %d): %s", ErrStorage, id, from, to, e.GetMessage())
	}
	if resp.GetCompleteTo() < uint64(to) {
		return nil, fmt.Errorf("%w: read %s [%d, %d): storage is complete only to %d", ErrStorage, id, from, to, resp.GetCompleteTo())
	}
	var out []dataflow.Update
	for _, v := range resp.GetVersions() {
		us, err := decodeVersion(v)
		if err != nil {
			return nil, err
		}
		out = append(out, us[id]...)
	}
	return out, nil
}

// decodeVersion turns one storage version into updates per table.
func decodeVersion(v *messages.StorageVersion) (map[timely.GlobalId][]dataflow.Update, error) {
	out := map[timely.GlobalId][]dataflow.Update{}
	t := timely.Timestamp(v.GetVersion())
	for _, tc := range v.GetTables() {
		id, err := tc.GetTable().ToTimely()
		if err != nil {
			return nil, fmt.Errorf("%w: version %d: %v", ErrStorage, t, err)
		}
		for i, rd := range tc.GetRows() {
			row, err := dataflow.RowFromWire(rd.GetRow())
			if err != nil {
				return nil, fmt.Errorf("%w: version %d, table %s, row %d: %v", ErrStorage, t, id, i, err)
			}
			diff := int64(1)
			if rd.Diff != nil {
				diff = rd.GetDiff()
			}
			out[id] = append(out[id], dataflow.Update{Row: row, Time: t, Diff: diff})
		}
	}
	return out, nil
}
