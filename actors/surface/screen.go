package surface

import (
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Why a frame (a MessageBatch) or one of its envelopes was refused: the
// values of arbor_remote_frames_rejected_total's reason label. The set is
// closed, so a peer cannot grow the label.
const (
	ReasonTarget       = "target"       // target index outside the batch's targets, or a nil target
	ReasonSender       = "sender"       // sender index outside the batch's senders, or a nil sender
	ReasonTypeID       = "type_id"      // type id outside the batch's type names
	ReasonSerializer   = "serializer"   // a serializer other than protobuf
	ReasonUnknownType  = "unknown_type" // a type name no protobuf type is registered under
	ReasonMethod       = "method"       // a unary Remoting call; protoactor does not implement them
	ReasonUnreadable   = "unreadable"   // the stream's message is not a RemoteMessage, or an envelope is empty
	ReasonMalformed    = "malformed"    // a Watch, Unwatch or Terminated that does not decode or names no PID
	ReasonWatchLimit   = "watch_limit"  // a Watch over its connection's cap of remote watches (watches.go)
	ReasonFuture       = "future"       // a system message to a future, or a message to a future that does not exist (futures.go)
	protobufSerializer = int32(0)       // remote's protobuf serializer; Arbor registers no other
)

// RemoteHeader is the message header the remote guard sets, on every
// envelope it lets through, to the address of the peer that sent it. An
// actor (or AllowRemote) tells a message from another process by it; a
// peer cannot forge its absence, because the guard overwrites it.
const RemoteHeader = "arbor-remote-peer"

// frameError is a batch refused as a whole: the stream it came on is closed
// and nothing of it is delivered.
type frameError struct {
	reason string
	detail string
}

func (e *frameError) Error() string { return "surface: bad remote frame: " + e.detail }

// drop is one envelope of an accepted batch that is not delivered.
type drop struct {
	typeName string
	reason   string     // ReasonUnknownType, or "" for a system message
	sender   *actor.PID // the request's sender, to be answered; nil for none
}

// screenBatch checks every envelope of b before protoactor reads it, so
// that nothing protoactor indexes is out of range, and rewrites b in place:
// envelopes of unknown types and system messages a peer may not send are
// removed (and returned), the others are marked with RemoteHeader = peer.
// A batch with any structurally bad envelope is refused whole (frameError),
// before anything is changed. screenBatch does not decode payloads: protoactor
// does, and a payload that does not decode is an error it returns, not a
// panic.
//
// loc is what the guard knows of the node (nil fields: nothing): the
// stream's remote watches (watches.go) and which local actors run, for
// messages to futures (futures.go).
func screenBatch(b *remote.MessageBatch, peer string, kinds *kindCache, loc local) ([]drop, error) {
	watches := loc.watches
	watchers := make([]*actor.PID, len(b.Envelopes)) // of Watch, Unwatch, Terminated
	for i, env := range b.Envelopes {
		if env == nil {
			return nil, &frameError{ReasonUnreadable, fmt.Sprintf("envelope %d is empty", i)}
		}
		if env.Target < 0 || int(env.Target) >= len(b.Targets) || b.Targets[env.Target] == nil {
			return nil, &frameError{ReasonTarget, fmt.Sprintf("envelope %d: target %d of %d", i, env.Target, len(b.Targets))}
		}
		if env.Sender < 0 || int(env.Sender) > len(b.Senders) || (env.Sender > 0 && b.Senders[env.Sender-1] == nil) {
			return nil, &frameError{ReasonSender, fmt.Sprintf("envelope %d: sender %d of %d", i, env.Sender, len(b.Senders))}
		}
		if env.TypeId < 0 || int(env.TypeId) >= len(b.TypeNames) {
			return nil, &frameError{ReasonTypeID, fmt.Sprintf("envelope %d: type id %d of %d", i, env.TypeId, len(b.TypeNames))}
		}
		if env.SerializerId != protobufSerializer {
			return nil, &frameError{ReasonSerializer, fmt.Sprintf("envelope %d: serializer %d (only protobuf, 0, is accepted)", i, env.SerializerId)}
		}
		name := b.TypeNames[env.TypeId]
		if kinds.of(name) == kindSystem {
			pid, err := checkSystemMessage(name, env.MessageData)
			if err != nil {
				return nil, &frameError{ReasonMalformed, fmt.Sprintf("envelope %d: %s: %v", i, name, err)}
			}
			watchers[i] = pid
		}
	}
	var drops []drop
	kept := b.Envelopes[:0:0]
	for i, env := range b.Envelopes {
		name := b.TypeNames[env.TypeId]
		if target := b.Targets[env.Target].Id; isFuture(target) {
			if reason := loc.refuseFuture(target, kinds.of(name)); reason != "" {
				drops = append(drops, drop{typeName: name, reason: reason})
				continue
			}
		}
		if watches != nil && (name == "actor.Watch" || name == "actor.Unwatch") {
			k := watchKey{target: b.Targets[env.Target].Id, watcherAddr: watchers[i].Address, wID: watchers[i].Id}
			if name == "actor.Unwatch" {
				watches.unwatch(k)
			} else if !watches.watch(k) {
				drops = append(drops, drop{typeName: name, reason: ReasonWatchLimit})
				continue
			}
		}
		switch kinds.of(name) {
		case kindUnknown:
			drops = append(drops, drop{typeName: name, reason: ReasonUnknownType, sender: senderOf(b, env)})
			continue
		case kindDenied:
			drops = append(drops, drop{typeName: name})
			continue
		case kindSystem:
			// Watch, Unwatch, Terminated: protoactor routes them past the
			// mailbox, where a header would not be seen.
		default:
			if env.MessageHeader == nil {
				env.MessageHeader = &remote.MessageHeader{}
			}
			if env.MessageHeader.HeaderData == nil {
				env.MessageHeader.HeaderData = make(map[string]string, 1)
			}
			env.MessageHeader.HeaderData[RemoteHeader] = peer
		}
		kept = append(kept, env)
	}
	b.Envelopes = kept
	return drops, nil
}

// senderOf is the sender protoactor would deliver env with, request id
// included; nil for none. env's sender index has been checked.
func senderOf(b *remote.MessageBatch, env *remote.MessageEnvelope) *actor.PID {
	if env.Sender == 0 {
		return nil
	}
	s := b.Senders[env.Sender-1]
	pid := &actor.PID{Address: s.Address, Id: s.Id, RequestId: s.RequestId}
	if env.SenderRequestId > 0 {
		pid.RequestId = env.SenderRequestId
	}
	return pid
}

// checkSystemMessage decodes a system message a peer may send and checks
// that it names its PID: protoactor dereferences Watch.Watcher and
// Terminated.Who without a check, and a nil one panics inside the target
// actor, which its supervisor then restarts; a peer could restart any actor
// at will.
// It returns that PID (the watcher, or who terminated).
func checkSystemMessage(name string, data []byte) (*actor.PID, error) {
	var pid *actor.PID
	switch name {
	case "actor.Watch":
		var m actor.Watch
		if err := proto.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		pid = m.Watcher
	case "actor.Unwatch":
		var m actor.Unwatch
		if err := proto.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		pid = m.Watcher
	case "actor.Terminated":
		var m actor.Terminated
		if err := proto.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		pid = m.Who
	default:
		return nil, fmt.Errorf("no check for this system message")
	}
	if pid == nil || pid.Address == "" || pid.Id == "" {
		return nil, fmt.Errorf("names no PID")
	}
	return pid, nil
}

// kind is what a type name means to the guard.
type kind int

const (
	kindUnknown kind = iota // no protobuf type of that name is registered
	kindUser                // an ordinary message
	kindSystem              // a system message peers may send (remote watch)
	kindDenied              // a system or lifecycle message peers may not send
)

// remoteSystemMessages are the protoactor system messages a peer may send:
// remote watch needs them. Every other system or auto-receive message
// (Stop, PoisonPill, and any later one) is denied.
var remoteSystemMessages = map[protoreflect.FullName]bool{
	"actor.Watch":      true,
	"actor.Unwatch":    true,
	"actor.Terminated": true,
}

// kindCache remembers the kind of each registered type name. Only names of
// registered types are kept, so a peer cannot grow it.
type kindCache struct{ m sync.Map } // protoreflect.FullName → kind

func (c *kindCache) of(name string) kind {
	full := protoreflect.FullName(name)
	if k, ok := c.m.Load(full); ok {
		return k.(kind)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(full)
	if err != nil || mt == nil {
		return kindUnknown
	}
	k := classify(full, mt.Zero().Interface())
	c.m.Store(full, k)
	return k
}

func classify(name protoreflect.FullName, m any) kind {
	_, system := m.(actor.SystemMessage)
	_, auto := m.(actor.AutoReceiveMessage)
	switch {
	case system && remoteSystemMessages[name]:
		return kindSystem
	case system || auto:
		return kindDenied
	}
	return kindUser
}
