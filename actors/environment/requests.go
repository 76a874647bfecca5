package environment

import (
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
)

// isClientRequest reports whether m is a request of the client protocol.
func isClientRequest(m proto.Message) bool {
	switch m.(type) {
	case *messages.ClientConnect, *messages.ClientDisconnect, *messages.ClientSetStatementTimeout,
		*messages.ClientCancel, *messages.ClientCreateTable, *messages.ClientDrop,
		*messages.ClientCreateCluster, *messages.ClientCreateReplica, *messages.ClientCreateView,
		*messages.ClientCreateIndex, *messages.ClientCreateMaterializedView, *messages.ClientListObjects,
		*messages.ClientWrite, *messages.ClientPeek, *messages.ClientSubscribe, *messages.ClientDump,
		*messages.ClientSubscribeAck, *messages.ClientUnsubscribe:
		return true
	}
	return false
}

// isDDL reports whether m changes the catalog; those run one at a time.
func isDDL(m proto.Message) bool {
	switch m := m.(type) {
	case *messages.ClientCreateTable, *messages.ClientDrop, *messages.ClientCreateCluster, *messages.ClientCreateReplica,
		*messages.ClientCreateView, *messages.ClientCreateIndex, *messages.ClientCreateMaterializedView:
		return true
	case *messages.ClientWrite:
		// A write with updates reads before it writes: it runs one at a
		// time, in the statement queue, so two updates of one key cannot
		// both replace the same old row.
		return hasUpdates(m)
	}
	return false
}

// hasUpdates reports whether a write updates rows by key.
func hasUpdates(m *messages.ClientWrite) bool {
	for _, t := range m.GetTables() {
		if len(t.GetUpdates()) > 0 {
			return true
		}
	}
	return false
}

// kindOf names a request in errors and metrics: "create table", "peek".
func kindOf(m proto.Message) string {
	switch m.(type) {
	case *messages.ClientConnect:
		return "connect"
	case *messages.ClientDisconnect:
		return "disconnect"
	case *messages.ClientSetStatementTimeout:
		return "set statement timeout"
	case *messages.ClientCancel:
		return "cancel"
	case *messages.ClientCreateTable:
		return "create table"
	case *messages.ClientDrop:
		return "drop"
	case *messages.ClientCreateCluster:
		return "create cluster"
	case *messages.ClientCreateReplica:
		return "create replica"
	case *messages.ClientCreateView:
		return "create view"
	case *messages.ClientCreateIndex:
		return "create index"
	case *messages.ClientCreateMaterializedView:
		return "create materialized view"
	case *messages.ClientListObjects:
		return "list objects"
	case *messages.ClientWrite:
		return "write"
	case *messages.ClientPeek:
		return "peek"
	case *messages.ClientSubscribe:
		return "subscribe"
	case *messages.ClientSubscribeAck:
		return "subscribe ack"
	case *messages.ClientUnsubscribe:
		return "unsubscribe"
	case *messages.ClientDump:
		return "dump"
	}
	return string(proto.MessageName(m))
}

// errorResponse is m's response type carrying err.
func errorResponse(m proto.Message, err error) proto.Message {
	w := messages.ErrorToWire(err)
	switch m.(type) {
	case *messages.ClientConnect:
		return &messages.ClientConnectResponse{Error: w}
	case *messages.ClientDisconnect:
		return &messages.ClientDisconnectResponse{Error: w}
	case *messages.ClientSetStatementTimeout:
		return &messages.ClientSetStatementTimeoutResponse{Error: w}
	case *messages.ClientCancel:
		return &messages.ClientCancelResponse{Error: w}
	case *messages.ClientCreateTable:
		return &messages.ClientCreateTableResponse{Error: w}
	case *messages.ClientDrop:
		return &messages.ClientDropResponse{Error: w}
	case *messages.ClientCreateCluster, *messages.ClientCreateReplica, *messages.ClientCreateView,
		*messages.ClientCreateIndex, *messages.ClientCreateMaterializedView:
		return &messages.ClientCreateResponse{Error: w}
	case *messages.ClientListObjects:
		return &messages.ClientListObjectsResponse{Error: w}
	case *messages.ClientWrite:
		return &messages.ClientWriteResponse{Error: w}
	case *messages.ClientPeek:
		return &messages.ClientPeekResponse{Error: w}
	case *messages.ClientSubscribe:
		return &messages.ClientSubscribeResponse{Error: w}
	case *messages.ClientUnsubscribe:
		return &messages.ClientUnsubscribeResponse{Error: w}
	case *messages.ClientDump:
		return &messages.ClientDumpResponse{Error: w}
	}
	return messages.Unknown(string(proto.MessageName(m)))
}

func codeLabel(c messages.ErrorCode) string {
	return strings.ToLower(strings.TrimPrefix(c.String(), "ERROR_CODE_"))
}
