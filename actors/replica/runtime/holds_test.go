package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/timely"
)

func TestHoldTarget(t *testing.T) {
	cases := []struct {
		name     string
		consumed timely.Timestamp
		needs    []flowNeed
		want     timely.Timestamp
	}{
		{"no flows: the consumed upper", 50, nil, 50},
		{"a new flow holds its as_of", 50, []flowNeed{{asOf: 10}}, 10},
		{"a checkpoint below the as_of holds it", 50, []flowNeed{{asOf: 30, checkpoint: 20}}, 20},
		{"compaction moves the as_of", 50, []flowNeed{{asOf: 10, compaction: 25, checkpoint: 40}}, 25},
		{"the checkpoint bounds compaction", 50, []flowNeed{{asOf: 10, compaction: 45, checkpoint: 40}}, 40},
		{"never past the consumed upper", 50, []flowNeed{{asOf: 60}}, 50},
		{"the least flow wins", 50, []flowNeed{{asOf: 30, compaction: 35, checkpoint: 45}, {asOf: 12, checkpoint: 48}}, 12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, holdTarget(tc.consumed, tc.needs))
		})
	}
}
