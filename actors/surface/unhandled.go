package surface

import (
	"fmt"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/metrics"
)

// Unhandled is an actor's handler for messages its Receive does not know.
// Call Handle from the default case of Receive. It is confined to its
// actor (no locking); give each actor its own.
type Unhandled struct {
	actor   string
	logger  *slog.Logger
	counter *prometheus.CounterVec
	seen    map[string]bool
}

// NewUnhandled returns the handler of the actor named actorName (the label
// of arbor_actor_unknown_messages_total). reg may be nil (no metrics);
// logger nil means slog.Default().
func NewUnhandled(actorName string, logger *slog.Logger, reg prometheus.Registerer) (*Unhandled, error) {
	if logger == nil {
		logger = slog.Default()
	}
	c, err := metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "arbor_actor_unknown_messages_total",
		Help: "Messages an actor received but does not handle, by actor and message type.",
	}, []string{"actor", "type"}))
	if err != nil {
		return nil, fmt.Errorf("surface: metrics: %w", err)
	}
	return &Unhandled{actor: actorName, logger: logger, counter: c, seen: map[string]bool{}}, nil
}

// TypeName is the name a message is known by in logs, metrics and
// UnknownMessageReply: the protobuf full name, or the Go type.
func TypeName(m any) string {
	if pm, ok := m.(proto.Message); ok {
		return string(proto.MessageName(pm))
	}
	return fmt.Sprintf("%T", m)
}

// Handle deals with ctx.Message(), which the actor does not handle:
// protoactor's system and lifecycle messages are ignored; anything else is
// counted, logged once per type, and answered with an UnknownMessageReply
// when it has a sender, so that a caller waiting for a reply gets a coded
// error at once.
func (u *Unhandled) Handle(ctx actor.Context) {
	m := ctx.Message()
	switch m.(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage, *actor.ReceiveTimeout:
		return
	}
	name := TypeName(m)
	u.counter.WithLabelValues(u.actor, name).Inc()
	if !u.seen[name] {
		u.seen[name] = true
		u.logger.Warn("unknown message ignored (logged once per type)", "actor", u.actor, "type", name, "sender", ctx.Sender())
	}
	if ctx.Sender() != nil {
		ctx.Respond(messages.Unknown(name))
	}
}
