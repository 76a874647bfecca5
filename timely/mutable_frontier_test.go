package timely

import (
	"errors"
	"testing"
)

func TestMutableFrontierZeroValueIsClosed(t *testing.T) {
	var m MutableFrontier
	if !m.Frontier().IsEmpty() || !m.IsEmpty() || m.Len() != 0 {
		t.Fatalf("zero value: %v", m.Frontier())
	}
}

func TestMutableFrontierUpdates(t *testing.T) {
	type step struct {
		updates  []Update
		frontier Frontier
		changed  bool
		err      bool
	}
	cases := []struct {
		name  string
		start []Timestamp
		steps []step
	}{
		{"insert into empty", nil, []step{
			{[]Update{{5, 1}}, At(5), true, false},
			{[]Update{{7, 2}}, At(5), false, false},
			{[]Update{{3, 1}}, At(3), true, false},
		}},
		{"removal advances", []Timestamp{2, 4}, []step{
			{[]Update{{2, -1}}, At(4), true, false},
			{[]Update{{4, -1}}, Closed(), true, false},
		}},
		{"negative rejected atomically", []Timestamp{2}, []step{
			{[]Update{{2, -1}, {9, -1}}, At(2), false, true},
			{[]Update{{2, -2}}, At(2), false, true},
		}},
		{"same-time updates net out", nil, []step{
			{[]Update{{5, -1}, {5, 1}}, Closed(), false, false},
			{[]Update{{5, 2}, {5, -1}}, At(5), true, false},
		}},
		{"move a hold forward", []Timestamp{3}, []step{
			{[]Update{{3, -1}, {8, 1}}, At(8), true, false},
		}},
		{"max time", nil, []step{
			{[]Update{{MaxTimestamp, 1}}, At(MaxTimestamp), true, false},
			{[]Update{{MaxTimestamp, -1}}, Closed(), true, false},
		}},
		{"zero diff is a no-op", []Timestamp{1}, []step{
			{[]Update{{0, 0}}, At(1), false, false},
		}},
		{"duplicate times count twice", []Timestamp{4, 4}, []step{
			{[]Update{{4, -1}}, At(4), false, false},
			{[]Update{{4, -1}}, Closed(), true, false},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMutableFrontier(c.start...)
			for i, s := range c.steps {
				changed, err := m.Update(s.updates...)
				if (err != nil) != s.err {
					t.Fatalf("step %d: err = %v, want error %v", i, err, s.err)
				}
				if err != nil && !errors.Is(err, ErrNegativeCount) {
					t.Fatalf("step %d: err %v is not ErrNegativeCount", i, err)
				}
				if changed != s.changed {
					t.Fatalf("step %d: changed = %v, want %v", i, changed, s.changed)
				}
				if got := m.Frontier(); got != s.frontier {
					t.Fatalf("step %d: frontier = %v, want %v", i, got, s.frontier)
				}
			}
		})
	}
}

func TestMutableFrontierTimesAndClone(t *testing.T) {
	m := NewMutableFrontier(9, 1, 9, 4)
	got := m.Times()
	want := []Update{{1, 1}, {4, 1}, {9, 2}}
	if len(got) != len(want) {
		t.Fatalf("Times = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Times = %v, want %v", got, want)
		}
	}
	c := m.Clone()
	if _, err := c.UpdateOne(1, -1); err != nil {
		t.Fatal(err)
	}
	if m.Count(1) != 1 || c.Count(1) != 0 {
		t.Fatal("clone shares state")
	}
	if m.Frontier() != At(1) || c.Frontier() != At(4) {
		t.Fatalf("frontiers %v %v", m.Frontier(), c.Frontier())
	}
}
