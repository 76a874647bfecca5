package runtime

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/timely"
)

// TestExportFrontiers: the pure computation of an export's write, input
// and output frontiers (frontiers.go) for each kind of export, with and
// without an until.
func TestExportFrontiers(t *testing.T) {
	at := timely.At
	tables := func(s pool.Source) timely.Frontier {
		if s.Kind == pool.SourceView {
			return at(7)
		}
		return at(12)
	}
	flow := func(until timely.Frontier, checkpoint timely.Timestamp, hydrated bool, sources ...pool.Source) *flowState {
		return &flowState{checkpoint: checkpoint, df: &Dataflow{Until: until}, spec: pool.FlowSpec{Sources: sources},
			life: FlowLife{Stage: StageInstalled, Hydrated: hydrated}}
	}
	table := pool.Source{Id: timely.UserId(1), Kind: pool.SourceTable}
	view := pool.Source{Id: timely.UserId(2), Kind: pool.SourceView}
	withMV := func(f *flowState, upper timely.Timestamp, known bool) *flowState {
		f.mv = &MVSink{Upper: upper, Known: known}
		return f
	}
	withSub := func(f *flowState, asOf, lower timely.Timestamp, done bool) *flowState {
		f.sub = &subscribe{asOf: asOf, lower: lower, done: done}
		return f
	}
	for _, tc := range []struct {
		name string
		f    *flowState
		want string
	}{
		{"index backfilling: input at its checkpoint", flow(timely.Closed(), 9, false, table), "write=[9] input=[9] output=[9]"},
		{"index hydrated: input is its table's consumed upper", flow(timely.Closed(), 9, true, table), "write=[9] input=[12] output=[9]"},
		{"index over a view and a table: the least", flow(timely.Closed(), 6, true, table, view), "write=[6] input=[7] output=[6]"},
		{"index at its until", flow(at(8), 9, true, table), "write=[8] input=[12] output=[8]"},
		{"index whose checkpoint overtook the consumed upper", flow(timely.Closed(), 14, true, table), "write=[14] input=[14] output=[14]"},
		{"view: output is what reached storage", withMV(flow(timely.Closed(), 9, true, table), 5, true), "write=[9] input=[12] output=[5]"},
		{"view: collection upper unknown", withMV(flow(timely.Closed(), 9, true, table), 5, false), "write=[9] input=[12] output=[0]"},
		{"view: another replica appended further", withMV(flow(timely.Closed(), 9, true, table), 11, true), "write=[9] input=[12] output=[9]"},
		{"view at its until", withMV(flow(at(8), 9, true, table), 8, true), "write=[8] input=[12] output=[8]"},
		{"subscribe: output is its last batch's upper", withSub(flow(timely.Closed(), 9, true, table), 3, 6, false), "write=[9] input=[12] output=[6]"},
		{"subscribe: nothing sent yet", withSub(flow(timely.Closed(), 9, true, table), 3, 0, false), "write=[9] input=[12] output=[3]"},
		{"subscribe complete at its until", withSub(flow(at(8), 9, true, table), 3, 8, true), "write=[8] input=[12] output=[8]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f.frontiers(tables)
			require.Equal(t, tc.want, fmt.Sprintf("write=%s input=%s output=%s", f.Write, f.Input, f.Output))
		})
	}
}

// TestFrontierReportNeverRegresses: a report carries exactly the
// frontiers that advanced past what was sent; one that went back is left
// out.
func TestFrontierReportNeverRegresses(t *testing.T) {
	at := timely.At
	id := timely.UserId(5)
	var r frontierReport
	show := func(cur Frontiers) string {
		m := r.advance(id, cur)
		if m == nil {
			return "nothing"
		}
		s := ""
		for _, f := range []struct {
			name string
			set  bool
		}{{"write", m.Write != nil}, {"input", m.Input != nil}, {"output", m.Output != nil}} {
			if f.set {
				s += f.name + " "
			}
		}
		return s
	}
	require.Equal(t, "nothing", show(Frontiers{}))
	require.Equal(t, "write input output ", show(Frontiers{Write: at(3), Input: at(4), Output: at(2)}))
	require.Equal(t, "nothing", show(Frontiers{Write: at(3), Input: at(4), Output: at(2)}))
	require.Equal(t, "input ", show(Frontiers{Write: at(3), Input: at(6), Output: at(1)}))
	require.Equal(t, "write output ", show(Frontiers{Write: at(5), Input: at(5), Output: at(5)}))
	require.Equal(t, Frontiers{Write: at(5), Input: at(6), Output: at(5)}, r.sent)
	require.Equal(t, "write input output ", show(Frontiers{Write: timely.Closed(), Input: timely.Closed(), Output: timely.Closed()}))
}
