package surface

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/metrics"
)

// GuardConfig configures a RemoteGuard.
type GuardConfig struct {
	// System, when set, is used to answer a request whose type is not
	// registered here with messages.UnknownMessageReply. Without it such a
	// request is dropped unanswered.
	System *actor.ActorSystem
	// Logger (slog.Default() when nil).
	Logger *slog.Logger
	// Registerer for the guard's counters; nil means unregistered.
	Registerer prometheus.Registerer
	// MaxRemoteWatches caps the remote watches one peer connection holds
	// (watches.go); 0 means DefaultMaxRemoteWatches.
	MaxRemoteWatches int
}

// RemoteGuard stands between gRPC and protoactor remote's endpoint reader.
// Its interceptors (ServerOptions) make the remote port safe to expose:
//
//   - a panic on a Remoting stream closes that stream, is logged and is
//     counted (arbor_remote_frame_panics_total); the process lives on;
//   - every MessageBatch is checked before protoactor reads it: an index out
//     of range or a serializer other than protobuf refuses the batch and
//     closes the stream; an envelope of an unregistered type is dropped and,
//     when it has a sender, answered with messages.UnknownMessageReply
//     (arbor_remote_frames_rejected_total{reason});
//   - system and lifecycle messages other than remote watch (Stop,
//     PoisonPill) are dropped (arbor_remote_messages_dropped_total{type});
//   - every other envelope is marked with RemoteHeader, so actors can tell
//     remote senders apart (AllowRemote);
//   - protoactor's unary Remoting calls, which it does not implement (they
//     panic), are refused with codes.Unimplemented.
//
// A RemoteGuard is safe for concurrent use by every stream.
type RemoteGuard struct {
	system     *actor.ActorSystem
	logger     *slog.Logger
	maxWatches int

	panics   prometheus.Counter
	rejected *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	watches  prometheus.Gauge

	kinds  kindCache
	logged sync.Map // kinds of event already logged at Warn: string → struct{}
}

// NewRemoteGuard returns a guard. It fails only when its counters cannot
// be registered.
func NewRemoteGuard(cfg GuardConfig) (*RemoteGuard, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxRemoteWatches == 0 {
		cfg.MaxRemoteWatches = DefaultMaxRemoteWatches
	}
	if cfg.MaxRemoteWatches < 0 {
		return nil, fmt.Errorf("surface: MaxRemoteWatches %d is negative", cfg.MaxRemoteWatches)
	}
	g := &RemoteGuard{
		system:     cfg.System,
		logger:     cfg.Logger,
		maxWatches: cfg.MaxRemoteWatches,
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbor_remote_frame_panics_total",
			Help: "Panics while protoactor remote handled a frame from a peer; each closed that peer's stream.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbor_remote_frames_rejected_total",
			Help: "Remote frames (or envelopes of them) refused before delivery, by reason.",
		}, []string{"reason"}),
		dropped: newDroppedCounter(),
		watches: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbor_remote_watches",
			Help: "Remote watches of this node's actors held by open peer connections (capped per connection).",
		}),
	}
	if err := metrics.Into(cfg.Registerer, &g.panics); err != nil {
		return nil, fmt.Errorf("surface: metrics: %w", err)
	}
	if err := metrics.Into(cfg.Registerer, &g.watches); err != nil {
		return nil, fmt.Errorf("surface: metrics: %w", err)
	}
	if err := metrics.Into(cfg.Registerer, &g.rejected, &g.dropped); err != nil {
		return nil, fmt.Errorf("surface: metrics: %w", err)
	}
	return g, nil
}

// newDroppedCounter is arbor_remote_messages_dropped_total, shared by the
// guard and every AllowRemote middleware (same description, one series set).
func newDroppedCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "arbor_remote_messages_dropped_total",
		Help: "Messages from remote senders that were not delivered (system messages, types the receiver does not accept), by type.",
	}, []string{"type"})
}

// ServerOptions are the gRPC server options that install the guard; pass
// them to remote.WithServerOptions.
func (g *RemoteGuard) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainStreamInterceptor(g.StreamInterceptor),
		grpc.ChainUnaryInterceptor(g.UnaryInterceptor),
	}
}

// receiveMethod is the one Remoting method protoactor serves.
const receiveMethod = "/remote.Remoting/Receive"

// StreamInterceptor recovers a panic on any stream and screens the frames
// of Remoting.Receive streams.
func (g *RemoteGuard) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	from := peerOf(ss)
	defer func() {
		if p := recover(); p != nil {
			g.panics.Inc()
			g.once("panic", slog.LevelError, "remote stream panicked; the stream is closed (logged once, counted in arbor_remote_frame_panics_total)",
				"peer", from, "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "surface: the frame could not be handled; stream closed")
		}
	}()
	if info.FullMethod == receiveMethod {
		exists := g.exists()
		watches := newStreamWatches(g.maxWatches, exists, g.watches)
		// The stream's end, however it ends, removes the watches it holds.
		defer func() { g.unwatchAll(watches.release()) }()
		ss = &screenedStream{ServerStream: ss, guard: g, peer: from, local: local{watches: watches, exists: exists}}
	}
	return handler(srv, ss)
}

// UnaryInterceptor refuses protoactor's unimplemented unary Remoting calls
// and recovers a panic in any other.
func (g *RemoteGuard) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	from := "unknown"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		from = p.Addr.String()
	}
	if strings.HasPrefix(info.FullMethod, "/remote.Remoting/") {
		g.reject(ReasonMethod, from, info.FullMethod)
		return nil, status.Errorf(codes.Unimplemented, "surface: %s is not served", info.FullMethod)
	}
	defer func() {
		if p := recover(); p != nil {
			g.panics.Inc()
			g.once("panic", slog.LevelError, "remote call panicked (logged once, counted in arbor_remote_frame_panics_total)",
				"peer", from, "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "surface: the call could not be handled")
		}
	}()
	return handler(ctx, req)
}

// screenedStream screens each RemoteMessage as it is received.
type screenedStream struct {
	grpc.ServerStream
	guard *RemoteGuard
	peer  string
	local local
}

func (s *screenedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	rm, ok := m.(*remote.RemoteMessage)
	if !ok {
		s.guard.reject(ReasonUnreadable, s.peer, fmt.Sprintf("%T", m))
		return status.Error(codes.InvalidArgument, "surface: unexpected message on the remote stream")
	}
	batch := rm.GetMessageBatch()
	if batch == nil {
		return nil
	}
	drops, err := screenBatch(batch, s.peer, &s.guard.kinds, s.local)
	var fe *frameError
	if errors.As(err, &fe) {
		s.guard.reject(fe.reason, s.peer, fe.detail)
		return status.Error(codes.InvalidArgument, fe.Error())
	}
	for _, d := range drops {
		s.guard.onDrop(d, s.peer)
	}
	return nil
}

func (g *RemoteGuard) reject(reason, from, detail string) {
	g.rejected.WithLabelValues(reason).Inc()
	g.once("reject/"+reason, slog.LevelWarn, "remote frame refused (logged once per reason, counted in arbor_remote_frames_rejected_total)",
		"reason", reason, "peer", from, "detail", detail)
}

func (g *RemoteGuard) onDrop(d drop, from string) {
	if d.reason == "" {
		g.dropped.WithLabelValues(d.typeName).Inc()
		g.once("drop/"+d.typeName, slog.LevelWarn, "system message from a remote sender dropped (logged once per type, counted in arbor_remote_messages_dropped_total)",
			"type", d.typeName, "peer", from)
		return
	}
	g.rejected.WithLabelValues(d.reason).Inc()
	if d.reason == ReasonFuture {
		g.once("reject/"+d.reason, slog.LevelWarn, "remote message to a future dropped: a system message, or no such future runs (logged once, counted in arbor_remote_frames_rejected_total)",
			"type", d.typeName, "peer", from)
		return
	}
	if d.reason == ReasonWatchLimit {
		g.once("reject/"+d.reason, slog.LevelWarn, "remote Watch over the connection's cap dropped (logged once, counted in arbor_remote_frames_rejected_total)",
			"peer", from, "max", g.maxWatches)
		return
	}
	// The name is the peer's, not ours: log the kind once, not each name.
	g.once("reject/"+d.reason, slog.LevelWarn, "remote message of an unregistered type dropped (logged once, counted in arbor_remote_frames_rejected_total)",
		"type", d.typeName, "peer", from)
	if d.sender != nil && g.system != nil {
		g.system.Root.Send(d.sender, messages.Unknown(d.typeName))
	}
}

// exists reports whether a local actor of an id runs (nil without System).
func (g *RemoteGuard) exists() func(string) bool {
	if g.system == nil {
		return nil
	}
	return func(id string) bool {
		_, ok := g.system.ProcessRegistry.GetLocal(id)
		return ok
	}
}

// once logs msg at level the first time key is seen, and at Debug after.
func (g *RemoteGuard) once(key string, level slog.Level, msg string, args ...any) {
	if _, seen := g.logged.LoadOrStore(key, struct{}{}); seen {
		level = slog.LevelDebug
	}
	g.logger.Log(context.Background(), level, msg, args...)
}

func peerOf(ss grpc.ServerStream) string {
	if p, ok := peer.FromContext(ss.Context()); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return "unknown"
}
