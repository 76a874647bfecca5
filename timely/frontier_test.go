package timely

import "testing"

func TestFrontierOrder(t *testing.T) {
	max := At(MaxTimestamp)
	cases := []struct {
		name      string
		a, b      Frontier
		le, lt    bool
		join, met Frontier
	}{
		{"equal times", At(3), At(3), true, false, At(3), At(3)},
		{"smaller", At(2), At(3), true, true, At(3), At(2)},
		{"greater", At(4), At(3), false, false, At(4), At(3)},
		{"minimum vs closed", Minimum(), Closed(), true, true, Closed(), Minimum()},
		{"closed vs time", Closed(), At(7), false, false, Closed(), At(7)},
		{"closed vs closed", Closed(), Closed(), true, false, Closed(), Closed()},
		{"max time below closed", max, Closed(), true, true, Closed(), max},
		{"zero value is minimum", Frontier{}, At(0), true, false, At(0), At(0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.a.LessEqual(c.b); got != c.le {
				t.Errorf("%v <= %v = %v, want %v", c.a, c.b, got, c.le)
			}
			if got := c.a.LessThan(c.b); got != c.lt {
				t.Errorf("%v < %v = %v, want %v", c.a, c.b, got, c.lt)
			}
			if got := c.a.Join(c.b); got != c.join {
				t.Errorf("join(%v,%v) = %v, want %v", c.a, c.b, got, c.join)
			}
			if got := c.a.Meet(c.b); got != c.met {
				t.Errorf("meet(%v,%v) = %v, want %v", c.a, c.b, got, c.met)
			}
			// Join and meet are commutative.
			if c.a.Join(c.b) != c.b.Join(c.a) || c.a.Meet(c.b) != c.b.Meet(c.a) {
				t.Errorf("join/meet not commutative for %v, %v", c.a, c.b)
			}
		})
	}
}

func TestFrontierAccessors(t *testing.T) {
	if !Closed().IsEmpty() || At(0).IsEmpty() || At(MaxTimestamp).IsEmpty() {
		t.Fatal("IsEmpty wrong")
	}
	if _, ok := Closed().Time(); ok {
		t.Fatal("closed frontier has no time")
	}
	if ts, ok := At(9).Time(); !ok || ts != 9 {
		t.Fatalf("Time() = %v, %v", ts, ok)
	}
	if Closed().String() != "[]" || At(12).String() != "[12]" {
		t.Fatalf("String: %s %s", Closed(), At(12))
	}
	if !At(3).Equal(At(3)) || At(3).Equal(Closed()) {
		t.Fatal("Equal wrong")
	}
}

func TestFrontierAdmits(t *testing.T) {
	cases := []struct {
		f    Frontier
		t    Timestamp
		want bool
	}{
		{At(5), 4, false},
		{At(5), 5, true},
		{At(5), 6, true},
		{Minimum(), 0, true},
		{Closed(), 0, false},
		{Closed(), MaxTimestamp, false},
		{At(MaxTimestamp), MaxTimestamp, true},
	}
	for _, c := range cases {
		if got := c.f.Admits(c.t); got != c.want {
			t.Errorf("%v.Admits(%d) = %v, want %v", c.f, c.t, got, c.want)
		}
	}
}

func TestFrontierStepBack(t *testing.T) {
	cases := []struct {
		f    Frontier
		want Frontier
		ok   bool
	}{
		{At(5), At(4), true},
		{At(1), At(0), true},
		{At(0), At(0), false},
		{Closed(), At(MaxTimestamp), true},
		{At(MaxTimestamp), At(MaxTimestamp - 1), true},
	}
	for _, c := range cases {
		got, ok := c.f.StepBack()
		if got != c.want || ok != c.ok {
			t.Errorf("%v.StepBack() = %v,%v want %v,%v", c.f, got, ok, c.want, c.ok)
		}
	}
}

func TestTimestampSteps(t *testing.T) {
	if n, ok := MaxTimestamp.StepForward(); ok || n != MaxTimestamp {
		t.Fatal("max has no successor")
	}
	if n, ok := Timestamp(4).StepForward(); !ok || n != 5 {
		t.Fatal("4+1")
	}
	if n, ok := MinTimestamp.StepBack(); ok || n != 0 {
		t.Fatal("0 has no predecessor")
	}
	if n, ok := Timestamp(4).StepBack(); !ok || n != 3 {
		t.Fatal("4-1")
	}
}

func TestAnswerable(t *testing.T) {
	cases := []struct {
		t            Timestamp
		since, upper Frontier
		want         bool
	}{
		{5, At(3), At(10), true},
		{3, At(3), At(10), true},
		{10, At(3), At(10), false}, // t == upper: not complete yet
		{2, At(3), At(10), false},  // t < since: compacted
		{7, At(3), Closed(), true}, // closed upper: complete forever
		{7, Closed(), Closed(), false},
		{0, Minimum(), At(0), false}, // nothing complete yet
		{MaxTimestamp, At(0), Closed(), true},
	}
	for _, c := range cases {
		if got := Answerable(c.t, c.since, c.upper); got != c.want {
			t.Errorf("Answerable(%d, %v, %v) = %v, want %v", c.t, c.since, c.upper, got, c.want)
		}
	}
}
