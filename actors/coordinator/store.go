package coordinator

import (
	"context"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// Store is the coordinator's durable side: it reads source history for
// backfill (tables from storage, views from committed outputs) and
// commits outputs with checkpoints. The actor never calls it from its
// Receive: a goroutine the actor owns makes each call with a context
// whose deadline is Config.StoreTimeout, and reports the outcome back as
// a message. Every method must return once its context is done.
type Store interface {
	pool.Reader
	// Commit makes c durable atomically: every output change and every
	// checkpoint, or nothing. After an error nothing was written (or, for
	// an error of unknown outcome such as a timeout, the next Commit fails
	// and the runtime restarts from what is durable).
	Commit(ctx context.Context, c Commit) error
	// Checkpoints returns the committed checkpoint of every flow that has
	// one.
	Checkpoints(ctx context.Context) (map[pool.FlowId]timely.Timestamp, error)
}

// TableReader reads table and storage-collection history from storage.
type TableReader interface {
	// ReadTable returns the changes of table (or storage collection) id
	// with from <= time < to;
	// history below the table's since is reported at the since. It
	// returns once ctx is done.
	ReadTable(ctx context.Context, id timely.GlobalId, from, to timely.Timestamp) ([]dataflow.Update, error)
}
