package persistence_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
)

func u(k, v string, ts uint64, d int64) persistence.Update {
	return persistence.Update{Key: []byte(k), Value: []byte(v), Ts: timelyTs(ts), Diff: d}
}

func TestConsolidate(t *testing.T) {
	cases := []struct {
		name   string
		in     []persistence.Update
		want   []persistence.Update
		byTime []persistence.Update
	}{
		{name: "empty"},
		{
			name: "sums and drops zero",
			in:   []persistence.Update{u("b", "1", 1, 1), u("a", "1", 1, 2), u("b", "1", 1, -1), u("a", "1", 1, -1), u("c", "", 0, 0)},
			want: []persistence.Update{u("a", "1", 1, 1)},
		},
		{
			name:   "orders by key, value, time",
			in:     []persistence.Update{u("b", "1", 0, 1), u("a", "2", 0, 1), u("a", "1", 5, 1), u("a", "1", 2, 1)},
			want:   []persistence.Update{u("a", "1", 2, 1), u("a", "1", 5, 1), u("a", "2", 0, 1), u("b", "1", 0, 1)},
			byTime: []persistence.Update{u("a", "2", 0, 1), u("b", "1", 0, 1), u("a", "1", 2, 1), u("a", "1", 5, 1)},
		},
		{
			name: "different times do not cancel",
			in:   []persistence.Update{u("a", "", 1, 1), u("a", "", 2, -1)},
			want: []persistence.Update{u("a", "", 1, 1), u("a", "", 2, -1)},
		},
	}
	for _, tc := range cases {
		got := persistence.Consolidate(append([]persistence.Update(nil), tc.in...))
		require.Equal(t, len(tc.want), len(got), tc.name)
		for i := range tc.want {
			require.Equal(t, tc.want[i], got[i], tc.name)
		}
		if tc.byTime != nil {
			got := persistence.ConsolidateByTime(append([]persistence.Update(nil), tc.in...))
			require.Equal(t, tc.byTime, got, tc.name)
		}
	}
}
