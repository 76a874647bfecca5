package timely

import (
	"errors"
	"math/rand"
	"testing"
)

func TestParseIds(t *testing.T) {
	cases := []struct {
		in   string
		ok   bool
		want GlobalId
	}{
		{"u12", true, UserId(12)},
		{"s0", true, SystemId(0)},
		{"t18446744073709551615", true, TransientId(18446744073709551615)},
		{"", false, GlobalId{}},
		{"u", false, GlobalId{}},
		{"x1", false, GlobalId{}},
		{"u-1", false, GlobalId{}},
		{"u18446744073709551616", false, GlobalId{}},
		{"u1 ", false, GlobalId{}},
	}
	for _, c := range cases {
		got, err := ParseGlobalId(c.in)
		if c.ok != (err == nil) {
			t.Errorf("ParseGlobalId(%q) err = %v", c.in, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrBadId) {
				t.Errorf("error %v does not wrap ErrBadId", err)
			}
			continue
		}
		if got != c.want || got.String() != c.in {
			t.Errorf("ParseGlobalId(%q) = %v", c.in, got)
		}
	}
	if _, err := ParseReplicaId("t1"); err == nil {
		t.Error("replica ids are never transient")
	}
	if r, err := ParseReplicaId("u3"); err != nil || r.String() != "u3" {
		t.Errorf("replica u3: %v %v", r, err)
	}
	if c, err := ParseClusterId("s2"); err != nil || c != (ClusterId{System, 2}) {
		t.Errorf("cluster s2: %v %v", c, err)
	}
}

func TestUuidRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 100; i++ {
		u, err := NewUuid(r)
		if err != nil {
			t.Fatal(err)
		}
		if u[6]>>4 != 4 || u[8]>>6 != 2 {
			t.Fatalf("not a v4 uuid: %s", u)
		}
		back, err := ParseUuid(u.String())
		if err != nil || back != u {
			t.Fatalf("round trip %s: %v %v", u, back, err)
		}
	}
	for _, bad := range []string{"", "nonsense", "0123456789abcdef0123456789abcdef0123", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"} {
		if _, err := ParseUuid(bad); !errors.Is(err, ErrBadId) {
			t.Errorf("ParseUuid(%q) err = %v", bad, err)
		}
	}
}

func TestGlobalIdCompare(t *testing.T) {
	ordered := []GlobalId{SystemId(2), SystemId(10), TransientId(0), UserId(1), UserId(9)}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", a, b, got, want)
			}
		}
	}
}
