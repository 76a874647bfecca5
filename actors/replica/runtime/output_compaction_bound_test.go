package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/timely"
)

// TestFoldBound: how far the runtime lets an export's committed output be
// folded — the controller's frontier, bounded by a subscribe's next read
// and a sink's next append, and nothing until every reader is ready.
func TestFoldBound(t *testing.T) {
	sink := func(upper timely.Timestamp) *MVSink {
		s := NewMVSink(timely.UserId(9), 0, timely.Closed())
		s.Upper = upper
		return s
	}
	for _, tc := range []struct {
		name string
		in   foldInputs
		want timely.Timestamp
	}{
		{"not ready (stage, install or a reader)", foldInputs{compaction: 10}, 0},
		{"an index: the controller's frontier", foldInputs{ready: true, compaction: 10}, 10},
		{"a subscribe before its first batch: its as_of", foldInputs{ready: true, compaction: 10, subscribe: &subscribe{asOf: 4}}, 4},
		{"a subscribe at lower 7: 6", foldInputs{ready: true, compaction: 10, subscribe: &subscribe{asOf: 4, lower: 7, sent: true}}, 6},
		{"a subscribe ahead of the controller", foldInputs{ready: true, compaction: 10, subscribe: &subscribe{asOf: 4, lower: 30, sent: true}}, 10},
		{"a complete subscribe reads nothing more", foldInputs{ready: true, compaction: 10, subscribe: &subscribe{asOf: 4, lower: 5, sent: true, done: true}}, 10},
		{"a sink whose upper is not learned", foldInputs{ready: true, compaction: 10, sink: sink(0)}, 0},
		{"a sink at upper 8: 7", foldInputs{ready: true, compaction: 10, sink: sink(8)}, 7},
		{"a sink ahead of the controller", foldInputs{ready: true, compaction: 10, sink: sink(50)}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, foldBound(tc.in))
		})
	}
}
