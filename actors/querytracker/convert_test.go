package querytracker

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func pbUuid(u timely.Uuid) *messages.Uuid { return messages.FromUuid(u) }
func pbExec(e ExecutionId) *messages.Uuid { return messages.FromUuid(timely.Uuid(e)) }
func pbCluster(n uint64) *messages.ClusterId {
	return messages.FromClusterId(timely.ClusterId{Kind: timely.User, Value: n})
}

func TestDecodeValid(t *testing.T) {
	u1 := timely.ClusterId{Kind: timely.User, Value: 1}
	cases := []struct {
		name string
		msg  proto.Message
		want Command
	}{
		{"track", &messages.QtTrackPeek{
			Uuid: pbUuid(peekId(1)), Conn: &messages.ConnectionId{Value: 2}, Cluster: pbCluster(1),
			DependsOn: []*messages.GlobalId{messages.FromGlobalId(timely.UserId(5))},
			Execution: pbExec(execId(1)), Strategy: messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_CONSTANT,
			WatchSet: &messages.QtWatchSet{Objects: []*messages.GlobalId{messages.FromGlobalId(timely.UserId(5))}, Timestamp: &messages.Timestamp{Millis: 9}},
		}, TrackPeek{Uuid: peekId(1), Conn: 2, Cluster: u1, DependsOn: []timely.GlobalId{timely.UserId(5)}, Execution: execId(1),
			Strategy: StrategyConstant, WatchSet: &WatchSet{Objects: []timely.GlobalId{timely.UserId(5)}, Timestamp: 9}}},
		{"untrack", &messages.QtUntrackPeek{Uuid: pbUuid(peekId(1))}, UntrackPeek{Uuid: peekId(1)}},
		{"cancel conn", &messages.QtCancelConn{Conn: &messages.ConnectionId{Value: 3}}, CancelConn{Conn: 3}},
		{"cancel by drop", &messages.QtCancelByDrop{
			Collections: []*messages.QtDroppedCollection{{Id: messages.FromGlobalId(timely.UserId(5)), Name: `view "v"`}},
			Clusters:    []*messages.QtDroppedCluster{{Id: pbCluster(1)}},
		}, CancelByDrop{Collections: map[timely.GlobalId]string{timely.UserId(5): `view "v"`}, Clusters: map[timely.ClusterId]string{u1: "cluster u1"}}},
		{"notify success", &messages.QtObservePeekNotification{Uuid: pbUuid(peekId(1)), Notification: &messages.QtPeekNotification{
			Outcome: &messages.QtPeekNotification_Success_{Success: &messages.QtPeekNotification_Success{Rows: 2, ResultSize: 20}}}},
			ObservePeekNotification{Uuid: peekId(1), Notification: Success(2, 20)}},
		{"notify error", &messages.QtObservePeekNotification{Uuid: pbUuid(peekId(1)), Notification: &messages.QtPeekNotification{
			Outcome: &messages.QtPeekNotification_Error_{Error: &messages.QtPeekNotification_Error{Message: "x"}}}},
			ObservePeekNotification{Uuid: peekId(1), Notification: Failure("x")}},
		{"notify canceled", &messages.QtObservePeekNotification{Uuid: pbUuid(peekId(1)), Notification: &messages.QtPeekNotification{
			Outcome: &messages.QtPeekNotification_Canceled_{Canceled: &messages.QtPeekNotification_Canceled{}}}},
			ObservePeekNotification{Uuid: peekId(1), Notification: Canceled()}},
		{"begin", &messages.QtBeginExecution{Execution: pbExec(execId(1)), Conn: &messages.ConnectionId{Value: 4}}, BeginExecution{Execution: execId(1), Conn: 4}},
		{"set cluster", &messages.QtSetExecutionCluster{Execution: pbExec(execId(1)), Cluster: pbCluster(1)}, SetExecutionCluster{Execution: execId(1), Cluster: u1}},
		{"set timestamp", &messages.QtSetExecutionTimestamp{Execution: pbExec(execId(1)), Timestamp: &messages.Timestamp{Millis: 8}}, SetExecutionTimestamp{Execution: execId(1), Timestamp: 8}},
		{"end success", &messages.QtEndExecution{Execution: pbExec(execId(1)), Reason: &messages.QtEndReason{Reason: &messages.QtEndReason_Success_{
			Success: &messages.QtEndReason_Success{Strategy: EncodeStrategy(StrategyFastPath), Rows: 1, ResultSize: 2}}}},
			EndExecution{Execution: execId(1), Reason: EndReason{Kind: EndSuccess, Strategy: StrategyFastPath, Rows: 1, ResultSize: 2}}},
		{"end canceled", &messages.QtEndExecution{Execution: pbExec(execId(1)), Reason: &messages.QtEndReason{Reason: &messages.QtEndReason_Canceled_{
			Canceled: &messages.QtEndReason_Canceled{Message: "timeout"}}}},
			EndExecution{Execution: execId(1), Reason: EndReason{Kind: EndCanceled, Message: "timeout"}}},
		{"end aborted", &messages.QtEndExecution{Execution: pbExec(execId(1)), Reason: &messages.QtEndReason{Reason: &messages.QtEndReason_Aborted_{
			Aborted: &messages.QtEndReason_Aborted{}}}},
			EndExecution{Execution: execId(1), Reason: EndReason{Kind: EndAborted}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Through the wire, as a remote sender's message would arrive.
			b, err := proto.Marshal(c.msg)
			require.NoError(t, err)
			m := c.msg.ProtoReflect().New().Interface()
			require.NoError(t, proto.Unmarshal(b, m))
			got, err := Decode(m)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	cases := []struct {
		name string
		msg  any
		// retires is set when Decode still returns a command that retires
		// the TrackPeek's handle.
		retires bool
		mention string
	}{
		{"track without uuid", &messages.QtTrackPeek{Execution: pbExec(execId(1))}, true, "uuid is missing"},
		{"track without execution", &messages.QtTrackPeek{Uuid: pbUuid(peekId(1))}, false, "execution"},
		{"track without conn", &messages.QtTrackPeek{Uuid: pbUuid(peekId(1)), Execution: pbExec(execId(1))}, true, "connection id is missing"},
		{"track with transient cluster", &messages.QtTrackPeek{Uuid: pbUuid(peekId(1)), Execution: pbExec(execId(1)),
			Conn: &messages.ConnectionId{}, Cluster: &messages.ClusterId{Kind: messages.IdKind_ID_KIND_TRANSIENT}}, true, "cluster id has invalid kind"},
		{"track with bad dependency", &messages.QtTrackPeek{Uuid: pbUuid(peekId(1)), Execution: pbExec(execId(1)),
			Conn: &messages.ConnectionId{}, Cluster: pbCluster(1), DependsOn: []*messages.GlobalId{{}}}, true, "depends_on[0]"},
		{"track without strategy", &messages.QtTrackPeek{Uuid: pbUuid(peekId(1)), Execution: pbExec(execId(1)),
			Conn: &messages.ConnectionId{}, Cluster: pbCluster(1)}, true, "execution strategy"},
		{"track with watch set without timestamp", &messages.QtTrackPeek{Uuid: pbUuid(peekId(1)), Execution: pbExec(execId(1)),
			Conn: &messages.ConnectionId{}, Cluster: pbCluster(1), Strategy: EncodeStrategy(StrategyStandard), WatchSet: &messages.QtWatchSet{}}, true, "watch_set"},
		{"untrack without uuid", &messages.QtUntrackPeek{}, false, "uuid is missing"},
		{"cancel conn without conn", &messages.QtCancelConn{}, false, "connection id is missing"},
		{"drop with bad cluster", &messages.QtCancelByDrop{Clusters: []*messages.QtDroppedCluster{{}}}, false, "clusters[0]"},
		{"drop with bad collection", &messages.QtCancelByDrop{Collections: []*messages.QtDroppedCollection{{}}}, false, "collections[0]"},
		{"notification without outcome", &messages.QtObservePeekNotification{Uuid: pbUuid(peekId(1))}, false, "no outcome"},
		{"begin without conn", &messages.QtBeginExecution{Execution: pbExec(execId(1))}, false, "connection id is missing"},
		{"set cluster without cluster", &messages.QtSetExecutionCluster{Execution: pbExec(execId(1))}, false, "cluster id is missing"},
		{"set timestamp without timestamp", &messages.QtSetExecutionTimestamp{Execution: pbExec(execId(1))}, false, "timestamp is missing"},
		{"end without reason", &messages.QtEndExecution{Execution: pbExec(execId(1))}, false, "end reason is missing"},
		{"end success without strategy", &messages.QtEndExecution{Execution: pbExec(execId(1)), Reason: &messages.QtEndReason{
			Reason: &messages.QtEndReason_Success_{Success: &messages.QtEndReason_Success{}}}}, false, "execution strategy"},
		{"not a command", &messages.QtDump{}, false, "not a query tracker command"},
		{"not even protobuf", 42, false, "not a query tracker command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, err := Decode(c.msg)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidCommand), "%v", err)
			require.Contains(t, err.Error(), c.mention)
			if _, isProto := c.msg.(*messages.QtDump); !isProto && c.mention != "not a query tracker command" {
				require.True(t, errors.Is(err, messages.ErrMalformed), "%v", err)
			}
			if !c.retires {
				require.Nil(t, cmd)
				return
			}
			fx := newFakeEffects()
			tr := NewTracker(TrackerConfig{}, fx)
			require.Error(t, tr.Apply(testEpoch, cmd))
			require.Equal(t, 1, fx.endCount(execId(1)), "the handle is retired")
			require.Equal(t, 0, tr.TrackedPeeks())
			require.NoError(t, tr.CheckInvariants())
		})
	}
}
