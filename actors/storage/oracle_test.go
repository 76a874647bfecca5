package storage

import (
	"testing"

	"github.com/arbor-db/arbor/timely"
)

func TestOracleMaxOfNowAndLastPlusOne(t *testing.T) {
	cases := []struct {
		name  string
		floor timely.Timestamp
		nows  []timely.Timestamp
		want  []timely.Timestamp
	}{
		{"clock ahead", 0, []timely.Timestamp{10, 20, 30}, []timely.Timestamp{10, 20, 30}},
		{"clock still", 0, []timely.Timestamp{10, 10, 10}, []timely.Timestamp{10, 11, 12}},
		{"clock backwards", 0, []timely.Timestamp{10, 5, 1, 12, 12}, []timely.Timestamp{10, 11, 12, 13, 14}},
		{"zero first", 0, []timely.Timestamp{0, 0}, []timely.Timestamp{0, 1}},
		{"floor from upper", 100, []timely.Timestamp{50, 150}, []timely.Timestamp{100, 150}},
		{"floor equal to now", 100, []timely.Timestamp{100}, []timely.Timestamp{100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := NewOracle(c.floor)
			for i, now := range c.nows {
				if got := o.Next(now); got != c.want[i] {
					t.Fatalf("step %d: Next(%d) = %d, want %d", i, now, got, c.want[i])
				}
				if last, ok := o.Last(); !ok || last != c.want[i] {
					t.Fatalf("step %d: Last = %d,%v", i, last, ok)
				}
			}
		})
	}
}

func TestOracleStrictlyIncreasing(t *testing.T) {
	o := NewOracle(0)
	prev, _ := o.Last()
	nows := []timely.Timestamp{5, 3, 3, 9, 9, 9, 2, 100, 99, 100, 101}
	for i, now := range nows {
		got := o.Next(now)
		if i > 0 && got <= prev {
			t.Fatalf("Next(%d) = %d after %d", now, got, prev)
		}
		if got < now {
			t.Fatalf("Next(%d) = %d is before now", now, got)
		}
		prev = got
	}
}

func TestOracleExhausted(t *testing.T) {
	o := NewOracle(timely.MaxTimestamp)
	o.Next(timely.MaxTimestamp) // the last time there is
	defer func() {
		if recover() == nil {
			t.Fatal("no panic after the last timestamp")
		}
	}()
	o.Next(0)
}
