package instance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/replica"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// TestCompleteCollectionDoesNotLag: a collection whose write frontier
// reached its dataflow's until is complete: its wallclock lag is zero
// however far the clock moves, while an unbounded one lags.
func TestCompleteCollectionDoesNotLag(t *testing.T) {
	c, err := NewCore(CoreConfig{EnvironmentEpoch: 1, Restarts: func(timely.ReplicaId) replica.RestartTracker { return &replica.FixedRestarts{} }})
	require.NoError(t, err)
	require.NoError(t, c.RegisterStorage(StorageCollection{Id: timely.UserId(1), Since: timely.At(0), Upper: timely.At(10)}))
	r := timely.ReplicaId{Kind: timely.User, Value: 1}
	require.NoError(t, c.AddReplica(r, "r"))
	for _, df := range []struct {
		id    timely.GlobalId
		until *messages.Frontier
	}{{timely.UserId(10), messages.FromFrontier(timely.At(8))}, {timely.UserId(11), nil}} {
		require.NoError(t, c.CreateDataflow(&messages.ComputeDataflowDescription{
			SourceImports: []*messages.ComputeSourceImport{{Id: messages.FromGlobalId(timely.UserId(1))}},
			IndexExports:  []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(df.id), On: messages.FromGlobalId(df.id)}},
			AsOf:          messages.FromFrontier(timely.At(5)), Until: df.until,
		}, DataflowOptions{}))
		require.NoError(t, c.HandleResponse(time.UnixMilli(0), r, &messages.ComputeResponse{Epoch: &messages.ComputeEpoch{Environment: 1, Incarnation: 1},
			Response: &messages.ComputeResponse_Frontiers{Frontiers: &messages.ComputeFrontiers{Id: messages.FromGlobalId(df.id), Write: messages.FromFrontier(timely.At(8))}}}))
	}
	c.Maintain(time.UnixMilli(60_000))
	require.NoError(t, c.checkInvariants())
	require.Zero(t, c.collections[timely.UserId(10)].wallclockLag)
	require.Equal(t, time.Duration(60_000-7)*time.Millisecond, c.collections[timely.UserId(11)].wallclockLag)
}
