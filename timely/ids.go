package timely

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrBadId is wrapped by every id parsing error.
var ErrBadId = errors.New("timely: malformed id")

// IdKind says which namespace an id belongs to.
type IdKind byte

const (
	// User objects: created by clients (u1, u2, ...).
	User IdKind = 'u'
	// System objects: created by Arbor itself (s1, s2, ...).
	System IdKind = 's'
	// Transient objects: peeks and subscribes that never reach the catalog (t1, ...).
	Transient IdKind = 't'
)

// Valid reports whether k is one of the known kinds.
func (k IdKind) Valid() bool { return k == User || k == System || k == Transient }

// GlobalId names a collection: a table, view, index, materialized view, or a
// transient dataflow. Its text form is the kind letter then the number: "u12".
type GlobalId struct {
	Kind  IdKind
	Value uint64
}

// UserId, SystemId and TransientId build ids of each kind.
func UserId(n uint64) GlobalId      { return GlobalId{User, n} }
func SystemId(n uint64) GlobalId    { return GlobalId{System, n} }
func TransientId(n uint64) GlobalId { return GlobalId{Transient, n} }

func (id GlobalId) String() string { return formatId(id.Kind, id.Value) }

// Compare orders ids by kind (the letter), then number; it returns -1, 0 or
// +1. Use it to sort: slices.SortFunc(ids, timely.GlobalId.Compare).
func (id GlobalId) Compare(other GlobalId) int {
	if c := cmp.Compare(id.Kind, other.Kind); c != 0 {
		return c
	}
	return cmp.Compare(id.Value, other.Value)
}

// ParseGlobalId parses "u12", "s3" or "t7".
func ParseGlobalId(s string) (GlobalId, error) {
	k, v, err := parseId(s, User, System, Transient)
	return GlobalId{k, v}, err
}

// ReplicaId names a compute replica: "u1" for user replicas, "s1" for system ones.
type ReplicaId struct {
	Kind  IdKind
	Value uint64
}

func (id ReplicaId) String() string { return formatId(id.Kind, id.Value) }

// ParseReplicaId parses "u1" or "s1".
func ParseReplicaId(s string) (ReplicaId, error) {
	k, v, err := parseId(s, User, System)
	return ReplicaId{k, v}, err
}

// ClusterId names a compute cluster: "u1" or "s1".
type ClusterId struct {
	Kind  IdKind
	Value uint64
}

func (id ClusterId) String() string { return formatId(id.Kind, id.Value) }

// ParseClusterId parses "u1" or "s1".
func ParseClusterId(s string) (ClusterId, error) {
	k, v, err := parseId(s, User, System)
	return ClusterId{k, v}, err
}

// ConnectionId names a client session.
type ConnectionId uint32

// Uuid identifies a peek (and anything else that needs a random unique id).
type Uuid [16]byte

// NewUuid reads a version-4 uuid from r. Pass a seeded source in tests and
// crypto/rand.Reader in production.
func NewUuid(r io.Reader) (Uuid, error) {
	var u Uuid
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return Uuid{}, fmt.Errorf("timely: read uuid: %w", err)
	}
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u, nil
}

// String prints the canonical 8-4-4-4-12 hex form.
func (u Uuid) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// ParseUuid parses the canonical 36-character form.
func ParseUuid(s string) (Uuid, error) {
	var u Uuid
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("%w: uuid %q is not in 8-4-4-4-12 form", ErrBadId, s)
	}
	hexStr := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(u[:], []byte(hexStr)); err != nil {
		return Uuid{}, fmt.Errorf("%w: uuid %q: %v", ErrBadId, s, err)
	}
	return u, nil
}

func formatId(k IdKind, v uint64) string {
	return string(rune(k)) + strconv.FormatUint(v, 10)
}

func parseId(s string, allowed ...IdKind) (IdKind, uint64, error) {
	if len(s) < 2 {
		return 0, 0, fmt.Errorf("%w: %q is too short (want a kind letter and a number, like u1)", ErrBadId, s)
	}
	k := IdKind(s[0])
	ok := false
	for _, a := range allowed {
		ok = ok || a == k
	}
	if !ok {
		return 0, 0, fmt.Errorf("%w: %q has unknown kind %q", ErrBadId, s, s[0])
	}
	v, err := strconv.ParseUint(s[1:], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %q has a bad number: %v", ErrBadId, s, err)
	}
	return k, v, nil
}
