package runtime

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/timely"
)

// TestSubscribeBatches walks the pure batch planner of a subscribe through
// checkpoints: each batch starts where the last ended (the first one reads
// the output from 0 and folds it into the as_of), nothing is planned
// without progress, and the batch reaching the until stops there with the
// empty upper, after which nothing more is planned.
func TestSubscribeBatches(t *testing.T) {
	at := timely.At
	type step struct {
		checkpoint timely.Timestamp
		want       string // "" for nothing to send
	}
	plan := func(b subscribeBatch) string {
		return fmt.Sprintf("[%s, %s) reads [%d, %d)", b.Lower, b.Upper, b.From, b.To)
	}
	for _, tc := range []struct {
		name  string
		asOf  timely.Timestamp
		until timely.Frontier
		steps []step
	}{
		{"unbounded", 5, timely.Closed(), []step{
			{3, ""}, // behind the as_of
			{5, ""},
			{7, "[[5], [7]) reads [0, 7)"},
			{7, ""},
			{9, "[[7], [9]) reads [7, 9)"},
		}},
		{"until", 5, at(10), []step{
			{8, "[[5], [8]) reads [0, 8)"},
			{12, "[[8], []) reads [8, 10)"},
			{15, ""},
		}},
		{"until reached at once", 5, at(10), []step{
			{10, "[[5], []) reads [0, 10)"},
			{11, ""},
		}},
		{"until before the as_of", 5, at(3), []step{
			{5, "[[5], []) reads [0, 3)"},
			{6, ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &subscribe{asOf: tc.asOf}
			for i, st := range tc.steps {
				b, ok := s.next(st.checkpoint, tc.until)
				if st.want == "" {
					require.False(t, ok, "step %d: planned %s", i, plan(b))
					continue
				}
				require.True(t, ok, "step %d", i)
				require.Equal(t, st.want, plan(b), "step %d", i)
				s.record(b)
			}
		})
	}
}
