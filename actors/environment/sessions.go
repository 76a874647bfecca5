package environment

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/querytracker"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func (a *envActor) session(conn *messages.ConnectionId) (*session, error) {
	if conn == nil {
		return nil, errorf(ErrUnknownSession, "the request names no connection (connect first)")
	}
	return a.core.Session(timely.ConnectionId(conn.GetValue()))
}

func (a *envActor) handleConnect(ctx actor.Context, m *messages.ClientConnect, sender *actor.PID) {
	if m.GetClientAddress() == "" || m.GetClientId() == "" {
		a.fail(ctx, m, sender, errorf(ErrInvalidRequest, "connect: client_address and client_id name the client's session actor and are required"))
		return
	}
	timeout := a.cfg.StatementTimeout
	if m.GetStatementTimeoutMs() > 0 {
		timeout = time.Duration(m.GetStatementTimeoutMs()) * time.Millisecond
	}
	client := actor.NewPID(m.GetClientAddress(), m.GetClientId())
	s := a.core.Connect(client, m.GetApplicationName(), timeout)
	ctx.Watch(client)
	a.metrics.Sessions.Set(float64(len(a.core.sessions)))
	a.cfg.Logger.Debug("session opened", "conn", s.conn, "client", client, "application", s.app)
	a.reply(ctx, sender, "connect", &messages.ClientConnectResponse{
		Conn:               messages.FromConnectionId(s.conn),
		StatementTimeoutMs: uint64(timeout / time.Millisecond),
	}, nil)
}

func (a *envActor) handleDisconnect(ctx actor.Context, m *messages.ClientDisconnect, sender *actor.PID) {
	s, err := a.session(m.GetConn())
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	// No Unwatch: it is a message to the client's node, which may be gone
	// by the time it is delivered, and protoactor's endpoint writer leaks a
	// connection per failed dial. The watch's Terminated finds no session.
	a.endSession(ctx, s.conn, "the client disconnected")
	a.reply(ctx, sender, "disconnect", &messages.ClientDisconnectResponse{}, nil)
}

// handleTerminated ends the session of a client actor that stopped or
// whose node became unreachable.
func (a *envActor) handleTerminated(ctx actor.Context, m *actor.Terminated) {
	if a.instanceTerminated(ctx, m.GetWho()) {
		return
	}
	if s, ok := a.core.SessionOfClient(m.GetWho()); ok {
		a.endSession(ctx, s.conn, "the client went away")
	}
}

// endSession forgets a session and cancels its statements, in the tracker
// (CancelConn) and here.
func (a *envActor) endSession(ctx actor.Context, conn timely.ConnectionId, why string) {
	peeks := a.core.EndSession(conn)
	a.endSessionSubscriptions(ctx, conn)
	a.cfg.Tracker.Send(querytracker.CancelConn{Conn: conn})
	for _, p := range peeks {
		a.answerPeek(ctx, p, nil, errorf(ErrCanceled, "peek %q: %s", p.name, why))
	}
	a.metrics.Sessions.Set(float64(len(a.core.sessions)))
	a.cfg.Logger.Debug("session ended", "conn", conn, "why", why, "canceled_peeks", len(peeks))
}

func (a *envActor) handleSetStatementTimeout(ctx actor.Context, m *messages.ClientSetStatementTimeout, sender *actor.PID) {
	s, err := a.session(m.GetConn())
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	s.timeout = a.cfg.StatementTimeout
	if m.GetTimeoutMs() > 0 {
		s.timeout = time.Duration(m.GetTimeoutMs()) * time.Millisecond
	}
	a.reply(ctx, sender, "set statement timeout", &messages.ClientSetStatementTimeoutResponse{TimeoutMs: uint64(s.timeout / time.Millisecond)}, nil)
}

// handleCancel cancels the session's pending statements (peeks and
// subscribes); the session stays.
func (a *envActor) handleCancel(ctx actor.Context, m *messages.ClientCancel, sender *actor.PID) {
	s, err := a.session(m.GetConn())
	if err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	peeks := a.core.CancelSession(s.conn)
	a.cfg.Tracker.Send(querytracker.CancelConn{Conn: s.conn})
	for _, p := range peeks {
		a.answerPeek(ctx, p, nil, errorf(ErrCanceled, "peek %q: canceling statement due to user request", p.name))
	}
	for _, sub := range a.sortedSubscriptions() {
		if sub.conn == s.conn && !sub.ended {
			a.endSubscription(ctx, sub, errorf(ErrCanceled, "subscribe %q: canceling statement due to user request", sub.name))
		}
	}
	a.reply(ctx, sender, "cancel", &messages.ClientCancelResponse{}, nil)
}

// handlePeekCanceled ends a peek the tracker canceled (a drop of its
// table, a CancelConn another path sent).
func (a *envActor) handlePeekCanceled(ctx actor.Context, m *peekCanceled) {
	if m.reason == querytracker.ReasonDropped {
		// The tracker ends the execution next, with the message naming
		// what was dropped; handleExecutionEnded answers with it.
		return
	}
	if p, ok := a.core.FinishPeek(m.uuid); ok {
		a.answerPeek(ctx, p, nil, errorf(ErrCanceled, "peek %q: canceled (%s)", p.name, m.reason))
	}
}

// handleExecutionEnded answers a pending peek whose execution the tracker
// ended with the tracker's reason.
func (a *envActor) handleExecutionEnded(ctx actor.Context, m *executionEnded) {
	p, ok := a.core.FinishPeek(timely.Uuid(m.id))
	if !ok {
		return
	}
	switch m.reason.Kind {
	case querytracker.EndSuccess:
		// Only the environment reports success; a pending peek cannot have
		// one. Answer rather than leave the client waiting.
		a.answerPeek(ctx, p, nil, errorf(ErrInternal, "peek %q: its execution ended before its read", p.name))
	case querytracker.EndError:
		a.answerPeek(ctx, p, nil, errorf(ErrCanceled, "peek %q: %s", p.name, m.reason.Message))
	default:
		a.answerPeek(ctx, p, nil, errorf(ErrCanceled, "peek %q: %s", p.name, m.reason))
	}
}

func (a *envActor) handleNeedsCompute(ctx actor.Context, m proto.Message, sender *actor.PID) {
	if c, ok := m.(interface{ GetConn() *messages.ConnectionId }); ok {
		if _, err := a.session(c.GetConn()); err != nil {
			a.fail(ctx, m, sender, err)
			return
		}
	}
	what := kindOf(m)
	if n, ok := m.(interface{ GetName() string }); ok && n.GetName() != "" {
		what = fmt.Sprintf("%s %q", what, n.GetName())
	}
	if c, ok := m.(*messages.ClientSubscribe); ok {
		what = fmt.Sprintf("subscribe %q", c.GetCollection())
	}
	a.fail(ctx, m, sender, fmt.Errorf("%s: %w", what, ErrNeedsCompute))
}

func (a *envActor) handleListObjects(ctx actor.Context, m *messages.ClientListObjects, sender *actor.PID) {
	if _, err := a.session(m.GetConn()); err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	resp := &messages.ClientListObjectsResponse{}
	all := m.GetType() == messages.ClientObjectType_CLIENT_OBJECT_TYPE_UNSPECIFIED
	for _, o := range a.core.Objects() {
		if all || m.GetType() == objectType(o.typ) {
			resp.Objects = append(resp.Objects, o.toWire(a.core))
		}
	}
	for _, cl := range a.core.Clusters() {
		if all || m.GetType() == messages.ClientObjectType_CLIENT_OBJECT_TYPE_CLUSTER {
			resp.Objects = append(resp.Objects, clusterToWire(cl))
		}
		if all || m.GetType() == messages.ClientObjectType_CLIENT_OBJECT_TYPE_REPLICA {
			names := make([]string, 0, len(cl.replicas))
			for n := range cl.replicas {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				resp.Objects = append(resp.Objects, replicaToWire(cl, n))
			}
		}
	}
	a.reply(ctx, sender, "list objects", resp, nil)
}

// dumpState is the environment's state as ClientDump shows it.
type dumpState struct {
	Ready        bool          `json:"ready"`
	Sessions     []dumpSession `json:"sessions"`
	Objects      []dumpObject  `json:"objects"`
	PendingPeeks int           `json:"pending_peeks"`
	Waiting      int           `json:"waiting"`
	DDLQueue     int           `json:"ddl_queue"`
	LastWrite    uint64        `json:"last_write"`
	Clusters     []dumpCluster `json:"clusters,omitempty"`
	// Nodes is the cluster's membership and where each replica runs, as
	// ClusterGetNodes answers it (nodes.go); absent when it could not be
	// gathered.
	Nodes *NodesView `json:"nodes,omitempty"`
}

type dumpCluster struct {
	Name     string            `json:"name"`
	Id       string            `json:"id"`
	Running  bool              `json:"running"`
	Instance string            `json:"instance,omitempty"`
	Replicas map[string]string `json:"replicas"`
	Computed []string          `json:"computed,omitempty"`
	Holds    int               `json:"storage_holds"`
}

type dumpSession struct {
	Conn             uint32 `json:"conn"`
	Client           string `json:"client"`
	Application      string `json:"application,omitempty"`
	StatementTimeout string `json:"statement_timeout"`
	PendingPeeks     int    `json:"pending_peeks"`
}

type dumpObject struct {
	Name   string   `json:"name"`
	Id     string   `json:"id"`
	Type   string   `json:"type"`
	Schema string   `json:"schema,omitempty"`
	Keys   []string `json:"key_columns,omitempty"`
	// AppendOnly marks an append-only table.
	AppendOnly bool `json:"append_only,omitempty"`
}

func (a *envActor) handleDump(ctx actor.Context, m *messages.ClientDump, sender *actor.PID) {
	if _, err := a.session(m.GetConn()); err != nil {
		a.fail(ctx, m, sender, err)
		return
	}
	d := dumpState{Ready: a.ready, PendingPeeks: a.core.Pending(), Waiting: len(a.waiting), DDLQueue: len(a.ddlQueue), LastWrite: a.core.LastWrite()}
	for _, s := range a.core.sessions {
		d.Sessions = append(d.Sessions, dumpSession{Conn: uint32(s.conn), Client: pidKey(s.client), Application: s.app,
			StatementTimeout: s.timeout.String(), PendingPeeks: len(s.peeks)})
	}
	sort.Slice(d.Sessions, func(i, j int) bool { return d.Sessions[i].Conn < d.Sessions[j].Conn })
	for _, o := range a.core.Objects() {
		d.Objects = append(d.Objects, dumpObject{Name: o.name, Id: o.id.String(), Type: typeName(o.typ), Schema: o.schema.String(), Keys: o.keys, AppendOnly: o.appendOnly})
	}
	for _, cl := range a.core.Clusters() {
		dc := dumpCluster{Name: cl.name, Id: cl.id.String(), Replicas: map[string]string{}, Holds: len(a.holds[cl.id])}
		if pid, ok := a.instances[cl.id]; ok {
			dc.Running, dc.Instance = true, pid.GetId()
		}
		for n, r := range cl.replicas {
			dc.Replicas[n] = r.String()
		}
		for _, o := range a.core.OnCluster(cl.id) {
			dc.Computed = append(dc.Computed, o.name)
		}
		d.Clusters = append(d.Clusters, dc)
	}
	a.gatherNodes(ctx, func(v NodesView, err error) { // nodes.go
		if err == nil {
			d.Nodes = &v
		}
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			a.fail(ctx, m, sender, errorf(ErrInternal, "dump: %v", err))
			return
		}
		a.reply(ctx, sender, "dump", &messages.ClientDumpResponse{Json: b}, nil)
	})
}
