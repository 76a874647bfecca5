package dataflow

import (
	"math"
	"testing"
)

// keyHash hashes equal keys alike (floats by value: 0 and -0, NaNs) and
// spreads int keys: a hundred thousand consecutive ids fill a table of
// 2^18 slots with short probe runs.
func TestKeyHash(t *testing.T) {
	equal := [][2]Row{
		{{Float64(0)}, {Float64(math.Copysign(0, -1))}},
		{{Float64(math.NaN())}, {Float64(-math.NaN())}},
		{{Int64(7), String("a")}, {Int64(7), String("a")}},
		{{Null(), Bool(true)}, {Null(), Bool(true)}},
	}
	for _, p := range equal {
		cols := make([]int, len(p[0]))
		for i := range cols {
			cols[i] = i
		}
		if keyHash(p[0], cols) != keyHash(p[1], cols) {
			t.Errorf("keyHash(%v) != keyHash(%v)", p[0], p[1])
		}
	}
	if keyHash(Row{Int64(1)}, []int{0}) == keyHash(Row{Timestamp(1)}, []int{0}) {
		t.Errorf("an int64 and a timestamp of the same bits hash alike")
	}
	const n, slots = 100_000, 1 << 18
	table := make([]bool, slots)
	longest := 0
	for id := int64(0); id < n; id++ {
		run := 0
		i := slotOf(keyHash(Row{Int64(id), Int64(id % 10)}, []int{0, 1}), slots-1)
		for ; table[i]; i = (i + 1) & (slots - 1) {
			run++
		}
		table[i] = true
		longest = max(longest, run)
	}
	t.Logf("longest probe run: %d", longest)
	if longest > 40 {
		t.Errorf("the longest probe run of %d ids in %d slots is %d", n, slots, longest)
	}
}
