package querytracker

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/timely"
)

// TestDumpShowsUnretiredHandles: a handle nobody retired is visible in Dump
// until it is retired, and a double retirement is counted there.
func TestDumpShowsUnretiredHandles(t *testing.T) {
	fx := newFakeEffects()
	tr := NewTracker(TrackerConfig{}, fx)
	now := testEpoch
	require.NoError(t, tr.BeginExecution(now, BeginExecution{Execution: execId(1), Conn: 3}))
	require.NoError(t, tr.SetExecutionTimestamp(now, SetExecutionTimestamp{Execution: execId(1), Timestamp: 17}))
	require.NoError(t, tr.TrackPeek(now, TrackPeek{Uuid: peekId(2), Execution: execId(2), Conn: 3,
		Cluster: timely.ClusterId{Kind: timely.User, Value: 1}, Strategy: StrategyStandard}))
	require.NoError(t, tr.CancelByDrop(now, CancelByDrop{Collections: map[timely.GlobalId]string{timely.UserId(8): `table "t"`}}))

	var d struct {
		Peeks      []map[string]any `json:"peeks"`
		Tombstones []map[string]any `json:"tombstones"`
		Unretired  []map[string]any `json:"unretired"`
		Recent     []map[string]any `json:"recent"`
		Double     uint64           `json:"double_retirements"`
	}
	require.NoError(t, json.Unmarshal(tr.Dump(now).JSON(), &d))
	require.Len(t, d.Peeks, 1)
	require.Len(t, d.Tombstones, 1)
	require.Len(t, d.Unretired, 2, "both handles are owed a retirement")
	require.Equal(t, float64(17), d.Unretired[0]["timestamp"])
	require.Empty(t, d.Recent)

	require.NoError(t, tr.EndExecution(now, EndExecution{Execution: execId(1), Reason: EndReason{Kind: EndAborted}}))
	require.NoError(t, tr.UntrackPeek(now, UntrackPeek{Uuid: peekId(2)}))
	require.ErrorIs(t, tr.EndExecution(now, EndExecution{Execution: execId(1), Reason: EndReason{Kind: EndAborted}}), ErrAlreadyRetired)
	require.NoError(t, json.Unmarshal(tr.Dump(now.Add(time.Minute)).JSON(), &d))
	require.Empty(t, d.Unretired)
	require.Empty(t, d.Tombstones, "expired at +60s")
	require.Len(t, d.Recent, 2)
	require.Equal(t, "aborted", d.Recent[1]["reason"].(map[string]any)["kind"])
	require.Equal(t, uint64(1), d.Double)
	require.Equal(t, 1, fx.endCount(execId(1)))
}
