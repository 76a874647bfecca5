package surface

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/metrics"
)

// AllowConfig configures AllowRemote.
type AllowConfig struct {
	// Actor names the actor in logs.
	Actor string
	// Types are the protobuf messages the actor accepts from remote
	// senders. Empty: it accepts nothing from another process.
	Types []proto.Message
	// Logger (slog.Default() when nil).
	Logger *slog.Logger
	// Registerer for arbor_remote_messages_dropped_total; nil means
	// unregistered.
	Registerer prometheus.Registerer
}

// AllowRemote returns a receiver middleware that lets an actor accept from
// remote senders only the protobuf types listed in cfg.Types. A message is
// from a remote sender when the node's RemoteGuard marked it (RemoteHeader);
// local messages pass untouched, whatever their type. A remote message of
// another type is not delivered: it is counted in
// arbor_remote_messages_dropped_total{type}, logged once per type, and
// answered with messages.UnknownMessageReply when it has a sender.
//
// Install it with actor.WithReceiverMiddleware, on the actor's own props
// or, for an actor built elsewhere, with props.Configure.
func AllowRemote(cfg AllowConfig) (actor.ReceiverMiddleware, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dropped, err := metrics.Register(cfg.Registerer, newDroppedCounter())
	if err != nil {
		return nil, fmt.Errorf("surface: metrics: %w", err)
	}
	allowed := make(map[string]bool, len(cfg.Types))
	for _, t := range cfg.Types {
		allowed[TypeName(t)] = true
	}
	var logged sync.Map // type name → struct{}; types reach here decoded, so the set is bounded by the registry
	return func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(ctx actor.ReceiverContext, env *actor.MessageEnvelope) {
			from := env.GetHeader(RemoteHeader)
			if from == "" {
				next(ctx, env)
				return
			}
			name := TypeName(env.Message)
			if allowed[name] {
				next(ctx, env)
				return
			}
			dropped.WithLabelValues(name).Inc()
			if _, seen := logged.LoadOrStore(name, struct{}{}); !seen {
				cfg.Logger.Warn("message from a remote sender not accepted by this actor (logged once per type, counted in arbor_remote_messages_dropped_total)",
					"actor", cfg.Actor, "type", name, "peer", from)
			}
			if env.Sender != nil {
				ctx.ActorSystem().Root.Send(env.Sender, messages.Unknown(name))
			}
		}
	}, nil
}

// FromRemote reports whether the message ctx is handling came from another
// process, and from which peer address (see RemoteHeader).
func FromRemote(ctx interface {
	MessageHeader() actor.ReadonlyMessageHeader
}) (peer string, ok bool) {
	h := ctx.MessageHeader()
	if h == nil {
		return "", false
	}
	peer = h.Get(RemoteHeader)
	return peer, peer != ""
}
