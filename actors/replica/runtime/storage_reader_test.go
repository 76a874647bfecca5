package runtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
	"github.com/arbor-db/arbor/timely"
)

// TestReadTableReturnsOnCancel: a read storage does not answer ends when
// its context is canceled, long before the storage timeout, with an error
// that says so; a read storage answers returns the rows.
func TestReadTableReturnsOnCancel(t *testing.T) {
	sys := testkit.NewSystem(t)
	storage := testkit.NewProbe(t, sys)
	tables := storageTables{root: sys.Root, storage: storage.PID(), timeout: time.Hour}
	id := timely.UserId(1)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tables.ReadTable(ctx, id, 0, 5)
		done <- err
	}()
	testkit.ExpectMsg[*messages.StorageReadRange](storage, 5*time.Second)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, ErrStorage)
	case <-time.After(10 * time.Second):
		t.Fatal("ReadTable still waits for storage after its context was canceled")
	}

	// Answered: the rows come back.
	go func() {
		us, err := tables.ReadTable(context.Background(), id, 0, 5)
		if err == nil && len(us) != 1 {
			err = errors.New("want one update")
		}
		done <- err
	}()
	testkit.ExpectMsg[*messages.StorageReadRange](storage, 5*time.Second)
	storage.Reply(&messages.StorageReadRangeResponse{CompleteTo: 5, Versions: []*messages.StorageVersion{{
		Version: 2, Tables: []*messages.StorageTableChanges{{Table: messages.FromGlobalId(id), Rows: []*messages.StorageRowDiff{{Row: rowToWire(dataflow.Row{dataflow.Int64(7)})}}}},
	}}})
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("ReadTable did not return storage's answer")
	}
}
