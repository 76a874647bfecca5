// Package surfacetest speaks protoactor's Remoting protocol directly, so a
// test can send a node frames no protoactor peer would: indexes out of
// range, unregistered types, system messages. It is for tests only.
package surfacetest

import (
	"context"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// PeerTimeout bounds a Peer's whole life: every wait on its stream ends by
// then.
const PeerTimeout = 15 * time.Second

// Peer is one Remoting stream to a node, past the connect handshake.
type Peer struct {
	conn   *grpc.ClientConn
	stream remote.Remoting_ReceiveClient
	cancel context.CancelFunc
}

// Dial connects to the remote at addr and performs the handshake. The peer
// is closed when the test ends.
func Dial(t testing.TB, addr string) *Peer {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("surfacetest: dial %s: %v", addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), PeerTimeout)
	p := &Peer{conn: conn, cancel: cancel}
	t.Cleanup(p.Close)
	if p.stream, err = remote.NewRemotingClient(conn).Receive(ctx); err != nil {
		t.Fatalf("surfacetest: open stream to %s: %v", addr, err)
	}
	err = p.stream.Send(&remote.RemoteMessage{MessageType: &remote.RemoteMessage_ConnectRequest{
		ConnectRequest: &remote.ConnectRequest{ConnectionType: &remote.ConnectRequest_ServerConnection{
			ServerConnection: &remote.ServerConnection{SystemId: "surfacetest", Address: "127.0.0.1:1"},
		}},
	}})
	if err != nil {
		t.Fatalf("surfacetest: connect request: %v", err)
	}
	res, err := p.stream.Recv()
	if err != nil || res.GetConnectResponse() == nil {
		t.Fatalf("surfacetest: connect response: %v, %v", res, err)
	}
	return p
}

// Send sends one batch on the stream.
func (p *Peer) Send(b *remote.MessageBatch) error {
	return p.stream.Send(&remote.RemoteMessage{MessageType: &remote.RemoteMessage_MessageBatch{MessageBatch: b}})
}

// WaitClosed waits (at most until the peer's deadline) for the node to end
// the stream and returns the gRPC code it ended it with; codes.DeadlineExceeded
// means it did not.
func (p *Peer) WaitClosed() codes.Code {
	for {
		if _, err := p.stream.Recv(); err != nil {
			return status.Code(err)
		}
	}
}

// Close ends the stream and the connection.
func (p *Peer) Close() {
	p.cancel()
	_ = p.conn.Close()
}

// Frame is a named MessageBatch.
type Frame struct {
	Name  string
	Batch *remote.MessageBatch
}

// CrashFrames are the five frames that made protoactor's endpoint reader
// panic before the remote guard: each is a one-envelope batch for target,
// wrong in one way.
func CrashFrames(target *actor.PID) []Frame {
	touch, _ := proto.Marshal(&actor.Touch{})
	one := func(typeName string, env *remote.MessageEnvelope, senders []*actor.PID) *remote.MessageBatch {
		env.MessageData = touch
		return &remote.MessageBatch{
			TypeNames: []string{typeName},
			Targets:   []*actor.PID{target},
			Envelopes: []*remote.MessageEnvelope{env},
			Senders:   senders,
		}
	}
	return []Frame{
		{"unregistered type name", one("arbor.nowhere.Missing", &remote.MessageEnvelope{}, nil)},
		{"target index past the targets", one("actor.Touch", &remote.MessageEnvelope{Target: 3}, nil)},
		{"type id past the type names", one("actor.Touch", &remote.MessageEnvelope{TypeId: 4}, nil)},
		{"serializer id past the serializers", one("actor.Touch", &remote.MessageEnvelope{SerializerId: 9}, nil)},
		{"sender index into an empty sender list", one("actor.Touch", &remote.MessageEnvelope{Sender: 1}, nil)},
	}
}

// Message is a well-formed one-envelope batch carrying m to target, from
// sender (nil for none).
func Message(target, sender *actor.PID, m proto.Message) *remote.MessageBatch {
	data, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	b := &remote.MessageBatch{
		TypeNames: []string{string(proto.MessageName(m))},
		Targets:   []*actor.PID{target},
		Envelopes: []*remote.MessageEnvelope{{MessageData: data}},
	}
	if sender != nil {
		b.Senders = []*actor.PID{sender}
		b.Envelopes[0].Sender = 1
	}
	return b
}
