package messages

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/arbor-db/arbor/timely"
)

// ErrMalformed is wrapped by every error that reports a wire message that
// cannot be turned into its Go value.
var ErrMalformed = errors.New("malformed message")

// FromTimestamp encodes a timestamp.
func FromTimestamp(t timely.Timestamp) *Timestamp { return &Timestamp{Millis: uint64(t)} }

// ToTimely decodes a timestamp; a nil message is an error.
func (x *Timestamp) ToTimely() (timely.Timestamp, error) {
	if x == nil {
		return 0, fmt.Errorf("%w: timestamp is missing", ErrMalformed)
	}
	return timely.Timestamp(x.Millis), nil
}

// FromFrontier encodes a frontier: no elements for closed, one otherwise.
func FromFrontier(f timely.Frontier) *Frontier {
	if t, ok := f.Time(); ok {
		return &Frontier{Elements: []uint64{uint64(t)}}
	}
	return &Frontier{}
}

// ToTimely decodes a frontier. A frontier of a total order has at most one
// element; more is malformed. A nil message is an error: "closed" must be
// said explicitly with an empty element list.
func (x *Frontier) ToTimely() (timely.Frontier, error) {
	if x == nil {
		return timely.Frontier{}, fmt.Errorf("%w: frontier is missing", ErrMalformed)
	}
	switch len(x.Elements) {
	case 0:
		return timely.Closed(), nil
	case 1:
		return timely.At(timely.Timestamp(x.Elements[0])), nil
	default:
		return timely.Frontier{}, fmt.Errorf("%w: frontier has %d elements, a total order allows at most one", ErrMalformed, len(x.Elements))
	}
}

func fromKind(k timely.IdKind) IdKind {
	switch k {
	case timely.User:
		return IdKind_ID_KIND_USER
	case timely.System:
		return IdKind_ID_KIND_SYSTEM
	case timely.Transient:
		return IdKind_ID_KIND_TRANSIENT
	}
	return IdKind_ID_KIND_UNSPECIFIED
}

func toKind(what string, k IdKind, allowTransient bool) (timely.IdKind, error) {
	switch k {
	case IdKind_ID_KIND_USER:
		return timely.User, nil
	case IdKind_ID_KIND_SYSTEM:
		return timely.System, nil
	case IdKind_ID_KIND_TRANSIENT:
		if allowTransient {
			return timely.Transient, nil
		}
	}
	return 0, fmt.Errorf("%w: %s has invalid kind %v", ErrMalformed, what, k)
}

// FromGlobalId encodes a global id.
func FromGlobalId(id timely.GlobalId) *GlobalId {
	return &GlobalId{Kind: fromKind(id.Kind), Value: id.Value}
}

// ToTimely decodes a global id.
func (x *GlobalId) ToTimely() (timely.GlobalId, error) {
	if x == nil {
		return timely.GlobalId{}, fmt.Errorf("%w: global id is missing", ErrMalformed)
	}
	k, err := toKind("global id", x.Kind, true)
	return timely.GlobalId{Kind: k, Value: x.Value}, err
}

// FromReplicaId encodes a replica id.
func FromReplicaId(id timely.ReplicaId) *ReplicaId {
	return &ReplicaId{Kind: fromKind(id.Kind), Value: id.Value}
}

// ToTimely decodes a replica id; replica ids are never transient.
func (x *ReplicaId) ToTimely() (timely.ReplicaId, error) {
	if x == nil {
		return timely.ReplicaId{}, fmt.Errorf("%w: replica id is missing", ErrMalformed)
	}
	k, err := toKind("replica id", x.Kind, false)
	return timely.ReplicaId{Kind: k, Value: x.Value}, err
}

// FromClusterId encodes a cluster id.
func FromClusterId(id timely.ClusterId) *ClusterId {
	return &ClusterId{Kind: fromKind(id.Kind), Value: id.Value}
}

// ToTimely decodes a cluster id; cluster ids are never transient.
func (x *ClusterId) ToTimely() (timely.ClusterId, error) {
	if x == nil {
		return timely.ClusterId{}, fmt.Errorf("%w: cluster id is missing", ErrMalformed)
	}
	k, err := toKind("cluster id", x.Kind, false)
	return timely.ClusterId{Kind: k, Value: x.Value}, err
}

// FromConnectionId encodes a connection id.
func FromConnectionId(id timely.ConnectionId) *ConnectionId {
	return &ConnectionId{Value: uint32(id)}
}

// ToTimely decodes a connection id.
func (x *ConnectionId) ToTimely() (timely.ConnectionId, error) {
	if x == nil {
		return 0, fmt.Errorf("%w: connection id is missing", ErrMalformed)
	}
	return timely.ConnectionId(x.Value), nil
}

// FromUuid encodes a uuid.
func FromUuid(u timely.Uuid) *Uuid {
	return &Uuid{Hi: binary.BigEndian.Uint64(u[:8]), Lo: binary.BigEndian.Uint64(u[8:])}
}

// ToTimely decodes a uuid.
func (x *Uuid) ToTimely() (timely.Uuid, error) {
	var u timely.Uuid
	if x == nil {
		return u, fmt.Errorf("%w: uuid is missing", ErrMalformed)
	}
	binary.BigEndian.PutUint64(u[:8], x.Hi)
	binary.BigEndian.PutUint64(u[8:], x.Lo)
	return u, nil
}
