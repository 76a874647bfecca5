//go:build !race

// This file runs a protoactor remote in the test process that peers
// connect to; protoactor's Remote.Shutdown races its own endpoint reader
// when such a connection closes, which -race reports now and then. The
// Makefile runs these tests without -race.

package surface_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/actors/surface/surfacetest"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/testkit"
)

// fakeStream is a server stream that yields queued messages, then EOF.
type fakeStream struct {
	in []proto.Message
}

func (s *fakeStream) SetHeader(metadata.MD) error  { return nil }
func (s *fakeStream) SendHeader(metadata.MD) error { return nil }
func (s *fakeStream) SetTrailer(metadata.MD)       {}
func (s *fakeStream) Context() context.Context     { return context.Background() }
func (s *fakeStream) SendMsg(any) error            { return nil }
func (s *fakeStream) RecvMsg(m any) error {
	if len(s.in) == 0 {
		return errors.New("EOF")
	}
	proto.Merge(m.(proto.Message), s.in[0])
	s.in = s.in[1:]
	return nil
}

var receiveInfo = &grpc.StreamServerInfo{FullMethod: "/remote.Remoting/Receive", IsClientStream: true, IsServerStream: true}

func newGuard(t *testing.T) (*surface.RemoteGuard, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	g, err := surface.NewRemoteGuard(surface.GuardConfig{Logger: testkit.QuietLogger(), Registerer: reg})
	require.NoError(t, err)
	return g, reg
}

func TestGuardRecoversAPanicOnTheStream(t *testing.T) {
	g, reg := newGuard(t)
	err := g.StreamInterceptor(nil, &fakeStream{}, receiveInfo, func(any, grpc.ServerStream) error {
		var m map[string]int
		m["boom"]++ // a nil map write, as a decoder bug would
		return nil
	})
	require.Equal(t, codes.Internal, status.Code(err), "err %v", err)
	require.Equal(t, 1.0, gather(t, reg, "arbor_remote_frame_panics_total", nil))
}

func TestGuardRefusesABadBatchBeforeTheHandlerSeesIt(t *testing.T) {
	g, reg := newGuard(t)
	frames := surfacetest.CrashFrames(&actor.PID{Address: "here", Id: "node"})
	bad := &remote.RemoteMessage{MessageType: &remote.RemoteMessage_MessageBatch{MessageBatch: frames[1].Batch}}
	seen := 0
	err := g.StreamInterceptor(nil, &fakeStream{in: []proto.Message{bad}}, receiveInfo, func(_ any, ss grpc.ServerStream) error {
		for {
			var m remote.RemoteMessage
			if err := ss.RecvMsg(&m); err != nil {
				return err
			}
			seen++
		}
	})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "err %v", err)
	require.Zero(t, seen)
	require.Equal(t, 1.0, gather(t, reg, "arbor_remote_frames_rejected_total", map[string]string{"reason": "target"}))
}

func TestGuardRefusesTheUnaryRemotingCalls(t *testing.T) {
	g, reg := newGuard(t)
	called := false
	_, err := g.UnaryInterceptor(context.Background(), &remote.ListProcessesRequest{},
		&grpc.UnaryServerInfo{FullMethod: "/remote.Remoting/ListProcesses"},
		func(context.Context, any) (any, error) { called = true; panic("implement me") })
	require.Equal(t, codes.Unimplemented, status.Code(err))
	require.False(t, called)
	require.Equal(t, 1.0, gather(t, reg, "arbor_remote_frames_rejected_total", map[string]string{"reason": "method"}))

	_, err = g.UnaryInterceptor(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/other.Service/Call"},
		func(context.Context, any) (any, error) { panic("boom") })
	require.Equal(t, codes.Internal, status.Code(err))
	require.Equal(t, 1.0, gather(t, reg, "arbor_remote_frame_panics_total", nil))
}

// TestGuardedRemoteSurvivesEveryCrashFrame starts one real protoactor remote
// behind the guard and sends it, on raw gRPC streams, each frame that used
// to kill the process.
func TestGuardedRemoteSurvivesEveryCrashFrame(t *testing.T) {
	sys := testkit.NewSystem(t)
	reg := prometheus.NewRegistry()
	g, err := surface.NewRemoteGuard(surface.GuardConfig{System: sys, Logger: testkit.QuietLogger(), Registerer: reg})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	r := remote.NewRemote(sys, remote.Configure("127.0.0.1", port, remote.WithServerOptions(g.ServerOptions()...)))
	r.Start()
	t.Cleanup(func() { r.Shutdown(false) })
	addr := "127.0.0.1:" + strconv.Itoa(port)

	probe := testkit.NewProbe(t, sys)
	echo, err := sys.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*messages.Row); ok {
			peer, remote := surface.FromRemote(ctx)
			ctx.Send(probe.PID(), &fromRemote{peer: peer, remote: remote})
		}
	}), "echo")
	require.NoError(t, err)

	var unknownFrame surfacetest.Frame
	for _, f := range surfacetest.CrashFrames(echo) {
		if f.Name == "unregistered type name" {
			unknownFrame = f
			continue
		}
		p := surfacetest.Dial(t, addr)
		require.NoError(t, p.Send(f.Batch), f.Name)
		require.Equal(t, codes.InvalidArgument, p.WaitClosed(), f.Name)
		p.Close()
	}
	// An unregistered type is dropped; the stream carries on and delivers
	// the next message, marked as remote.
	p := surfacetest.Dial(t, addr)
	require.NoError(t, p.Send(unknownFrame.Batch))
	require.NoError(t, p.Send(surfacetest.Message(echo, nil, &messages.Row{})))
	got := testkit.ExpectMsg[*fromRemote](probe, testkit.DefaultTimeout)
	require.True(t, got.remote)
	require.NotEmpty(t, got.peer)
	p.Close()

	for reason, want := range map[string]float64{"target": 1, "type_id": 1, "serializer": 1, "sender": 1, "unknown_type": 1} {
		require.Equal(t, want, gather(t, reg, "arbor_remote_frames_rejected_total", map[string]string{"reason": reason}), reason)
	}
	require.Zero(t, gather(t, reg, "arbor_remote_frame_panics_total", nil))
}

type fromRemote struct {
	peer   string
	remote bool
}
