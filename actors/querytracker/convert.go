package querytracker

import (
	"fmt"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// Decode turns a protobuf command (messages.Qt*) into its Go form. It fails
// with an error wrapping both ErrInvalidCommand and messages.ErrMalformed,
// naming the message and field, when a required field is missing or out of
// range. QtDump is not a Command; Decode reports it as unknown.
//
// A malformed QtTrackPeek whose execution decodes still yields a command
// next to the error: applying it retires that execution with the decode
// error (and cancels the compute peek if uuid and cluster decoded), so a bad
// message does not leak a handle. Apply a non-nil command even when the error is not nil.
func Decode(msg any) (Command, error) {
	switch m := msg.(type) {
	case *messages.QtTrackPeek:
		return decodeTrackPeek(m)
	case *messages.QtUntrackPeek:
		u, err := m.GetUuid().ToTimely()
		if err != nil {
			return nil, malformed("untrack peek", err)
		}
		return UntrackPeek{Uuid: u}, nil
	case *messages.QtCancelConn:
		c, err := m.GetConn().ToTimely()
		if err != nil {
			return nil, malformed("cancel conn", err)
		}
		return CancelConn{Conn: c}, nil
	case *messages.QtCancelByDrop:
		return decodeCancelByDrop(m)
	case *messages.QtObservePeekNotification:
		u, err := m.GetUuid().ToTimely()
		if err != nil {
			return nil, malformed("peek notification", err)
		}
		n, err := decodeNotification(m.GetNotification())
		if err != nil {
			return nil, malformed("peek notification "+u.String(), err)
		}
		return ObservePeekNotification{Uuid: u, Notification: n}, nil
	case *messages.QtBeginExecution:
		id, err := decodeExecution(m.GetExecution())
		if err != nil {
			return nil, malformed("begin execution", err)
		}
		c, err := m.GetConn().ToTimely()
		if err != nil {
			return nil, malformed("begin execution", err)
		}
		return BeginExecution{Execution: id, Conn: c}, nil
	case *messages.QtSetExecutionCluster:
		id, err := decodeExecution(m.GetExecution())
		if err != nil {
			return nil, malformed("set execution cluster", err)
		}
		c, err := m.GetCluster().ToTimely()
		if err != nil {
			return nil, malformed("set execution cluster", err)
		}
		return SetExecutionCluster{Execution: id, Cluster: c}, nil
	case *messages.QtSetExecutionTimestamp:
		id, err := decodeExecution(m.GetExecution())
		if err != nil {
			return nil, malformed("set execution timestamp", err)
		}
		ts, err := m.GetTimestamp().ToTimely()
		if err != nil {
			return nil, malformed("set execution timestamp", err)
		}
		return SetExecutionTimestamp{Execution: id, Timestamp: ts}, nil
	case *messages.QtEndExecution:
		id, err := decodeExecution(m.GetExecution())
		if err != nil {
			return nil, malformed("end execution", err)
		}
		r, err := decodeEndReason(m.GetReason())
		if err != nil {
			return nil, malformed("end execution "+id.String(), err)
		}
		return EndExecution{Execution: id, Reason: r}, nil
	}
	return nil, fmt.Errorf("%w: %T is not a query tracker command", ErrInvalidCommand, msg)
}

// IsWireCommand reports whether msg is one of the messages.Qt* commands
// Decode turns into a Command (it may still be malformed).
func IsWireCommand(msg any) bool {
	switch msg.(type) {
	case *messages.QtTrackPeek, *messages.QtUntrackPeek, *messages.QtCancelConn,
		*messages.QtCancelByDrop, *messages.QtObservePeekNotification,
		*messages.QtBeginExecution, *messages.QtSetExecutionCluster,
		*messages.QtSetExecutionTimestamp, *messages.QtEndExecution:
		return true
	}
	return false
}

func malformed(what string, err error) error {
	return fmt.Errorf("%s: %w (%w)", what, err, ErrInvalidCommand)
}

func decodeTrackPeek(m *messages.QtTrackPeek) (Command, error) {
	var c TrackPeek
	var err error
	if c.Execution, err = decodeExecution(m.GetExecution()); err != nil {
		return nil, malformed("track peek", err)
	}
	what := "track peek"
	if c.Uuid, err = m.GetUuid().ToTimely(); err == nil {
		what += " " + c.Uuid.String()
		err = decodeTrackPeekRest(m, &c, what)
	} else {
		err = malformed(what, err)
	}
	if err != nil {
		// The execution decoded: enough to retire the handle (and, with a
		// uuid and cluster, to cancel the compute peek).
		return rejectTrackPeek{TrackPeek: c, err: err}, err
	}
	return c, nil
}

func decodeTrackPeekRest(m *messages.QtTrackPeek, c *TrackPeek, what string) error {
	var err error
	if c.Conn, err = m.GetConn().ToTimely(); err != nil {
		return malformed(what, err)
	}
	if c.Cluster, err = m.GetCluster().ToTimely(); err != nil {
		return malformed(what, err)
	}
	for i, d := range m.GetDependsOn() {
		id, err := d.ToTimely()
		if err != nil {
			return malformed(fmt.Sprintf("%s: depends_on[%d]", what, i), err)
		}
		c.DependsOn = append(c.DependsOn, id)
	}
	if c.Strategy, err = decodeStrategy(m.GetStrategy()); err != nil {
		return malformed(what, err)
	}
	if ws := m.GetWatchSet(); ws != nil {
		w := &WatchSet{}
		for i, o := range ws.GetObjects() {
			id, err := o.ToTimely()
			if err != nil {
				return malformed(fmt.Sprintf("%s: watch_set.objects[%d]", what, i), err)
			}
			w.Objects = append(w.Objects, id)
		}
		if w.Timestamp, err = ws.GetTimestamp().ToTimely(); err != nil {
			return malformed(what+": watch_set", err)
		}
		c.WatchSet = w
	}
	return nil
}

func decodeCancelByDrop(m *messages.QtCancelByDrop) (Command, error) {
	c := CancelByDrop{
		Collections: make(map[timely.GlobalId]string, len(m.GetCollections())),
		Clusters:    make(map[timely.ClusterId]string, len(m.GetClusters())),
	}
	for i, d := range m.GetCollections() {
		id, err := d.GetId().ToTimely()
		if err != nil {
			return nil, malformed(fmt.Sprintf("cancel by drop: collections[%d]", i), err)
		}
		c.Collections[id] = displayName(d.GetName(), "relation", id.String())
	}
	for i, d := range m.GetClusters() {
		id, err := d.GetId().ToTimely()
		if err != nil {
			return nil, malformed(fmt.Sprintf("cancel by drop: clusters[%d]", i), err)
		}
		c.Clusters[id] = displayName(d.GetName(), "cluster", id.String())
	}
	return c, nil
}

// displayName falls back to "<kind> <id>" when the sender gave no name, so
// the error a client sees still names the object.
func displayName(name, kind, id string) string {
	if name != "" {
		return name
	}
	return kind + " " + id
}

func decodeExecution(u *messages.Uuid) (ExecutionId, error) {
	id, err := u.ToTimely()
	if err != nil {
		return ExecutionId{}, fmt.Errorf("execution: %w", err)
	}
	return ExecutionId(id), nil
}

func decodeStrategy(s messages.QtExecutionStrategy) (Strategy, error) {
	switch s {
	case messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_STANDARD:
		return StrategyStandard, nil
	case messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_FAST_PATH:
		return StrategyFastPath, nil
	case messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_PERSIST_FAST_PATH:
		return StrategyPersistFastPath, nil
	case messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_CONSTANT:
		return StrategyConstant, nil
	}
	return StrategyUnknown, fmt.Errorf("%w: execution strategy %v is not one of standard, fast path, persist fast path, constant", messages.ErrMalformed, s)
}

// EncodeStrategy is the protobuf form of a strategy.
func EncodeStrategy(s Strategy) messages.QtExecutionStrategy {
	switch s {
	case StrategyStandard:
		return messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_STANDARD
	case StrategyFastPath:
		return messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_FAST_PATH
	case StrategyPersistFastPath:
		return messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_PERSIST_FAST_PATH
	case StrategyConstant:
		return messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_CONSTANT
	}
	return messages.QtExecutionStrategy_QT_EXECUTION_STRATEGY_UNSPECIFIED
}

func decodeNotification(n *messages.QtPeekNotification) (Notification, error) {
	switch o := n.GetOutcome().(type) {
	case *messages.QtPeekNotification_Success_:
		return Success(o.Success.GetRows(), o.Success.GetResultSize()), nil
	case *messages.QtPeekNotification_Error_:
		return Failure(o.Error.GetMessage()), nil
	case *messages.QtPeekNotification_Canceled_:
		return Canceled(), nil
	}
	return Notification{}, fmt.Errorf("%w: notification has no outcome", messages.ErrMalformed)
}

func decodeEndReason(r *messages.QtEndReason) (EndReason, error) {
	switch o := r.GetReason().(type) {
	case *messages.QtEndReason_Success_:
		s, err := decodeStrategy(o.Success.GetStrategy())
		if err != nil {
			return EndReason{}, err
		}
		return EndReason{Kind: EndSuccess, Strategy: s, Rows: o.Success.GetRows(), ResultSize: o.Success.GetResultSize()}, nil
	case *messages.QtEndReason_Error_:
		return EndReason{Kind: EndError, Message: o.Error.GetMessage()}, nil
	case *messages.QtEndReason_Canceled_:
		return EndReason{Kind: EndCanceled, Message: o.Canceled.GetMessage()}, nil
	case *messages.QtEndReason_Aborted_:
		return EndReason{Kind: EndAborted}, nil
	}
	return EndReason{}, fmt.Errorf("%w: end reason is missing", messages.ErrMalformed)
}
