package messages

import (
	"errors"
	"math/rand"
	"testing"

	"github.com/arbor-db/arbor/timely"
	"google.golang.org/protobuf/proto"
)

// roundTrip marshals and unmarshals m so conversions are checked on real bytes.
func roundTrip[M proto.Message](t *testing.T, m M, fresh M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(b, fresh); err != nil {
		t.Fatal(err)
	}
	return fresh
}

func TestFrontierConversion(t *testing.T) {
	for _, f := range []timely.Frontier{timely.Closed(), timely.Minimum(), timely.At(42), timely.At(timely.MaxTimestamp)} {
		got, err := roundTrip(t, FromFrontier(f), &Frontier{}).ToTimely()
		if err != nil || got != f {
			t.Errorf("frontier %v -> %v, %v", f, got, err)
		}
	}
	if _, err := (&Frontier{Elements: []uint64{1, 2}}).ToTimely(); !errors.Is(err, ErrMalformed) {
		t.Errorf("two-element frontier: %v", err)
	}
	if _, err := (*Frontier)(nil).ToTimely(); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil frontier: %v", err)
	}
}

func TestIdConversion(t *testing.T) {
	for _, id := range []timely.GlobalId{timely.UserId(1), timely.SystemId(7), timely.TransientId(99)} {
		got, err := roundTrip(t, FromGlobalId(id), &GlobalId{}).ToTimely()
		if err != nil || got != id {
			t.Errorf("global id %v -> %v, %v", id, got, err)
		}
	}
	if _, err := (&GlobalId{Value: 3}).ToTimely(); !errors.Is(err, ErrMalformed) {
		t.Errorf("kind unspecified: %v", err)
	}
	r := timely.ReplicaId{Kind: timely.User, Value: 5}
	if got, err := roundTrip(t, FromReplicaId(r), &ReplicaId{}).ToTimely(); err != nil || got != r {
		t.Errorf("replica %v -> %v %v", r, got, err)
	}
	if _, err := (&ReplicaId{Kind: IdKind_ID_KIND_TRANSIENT}).ToTimely(); !errors.Is(err, ErrMalformed) {
		t.Errorf("transient replica: %v", err)
	}
	c := timely.ClusterId{Kind: timely.System, Value: 2}
	if got, err := roundTrip(t, FromClusterId(c), &ClusterId{}).ToTimely(); err != nil || got != c {
		t.Errorf("cluster %v -> %v %v", c, got, err)
	}
	if _, err := (*ClusterId)(nil).ToTimely(); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil cluster: %v", err)
	}
	if got, err := roundTrip(t, FromConnectionId(77), &ConnectionId{}).ToTimely(); err != nil || got != 77 {
		t.Errorf("conn -> %v %v", got, err)
	}
	u, _ := timely.NewUuid(rand.New(rand.NewSource(3)))
	if got, err := roundTrip(t, FromUuid(u), &Uuid{}).ToTimely(); err != nil || got != u {
		t.Errorf("uuid %v -> %v %v", u, got, err)
	}
	if ts, err := roundTrip(t, FromTimestamp(12), &Timestamp{}).ToTimely(); err != nil || ts != 12 {
		t.Errorf("timestamp -> %v %v", ts, err)
	}
}
