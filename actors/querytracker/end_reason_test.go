package querytracker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEndReasonFor maps every notification outcome with every strategy: a
// success reports the strategy recorded at track time, the others do not
// need it.
func TestEndReasonFor(t *testing.T) {
	strategies := []Strategy{StrategyStandard, StrategyFastPath, StrategyPersistFastPath, StrategyConstant}
	for _, s := range strategies {
		cases := []struct {
			n    Notification
			want EndReason
		}{
			{Success(3, 96), EndReason{Kind: EndSuccess, Strategy: s, Rows: 3, ResultSize: 96}},
			{Success(0, 0), EndReason{Kind: EndSuccess, Strategy: s}},
			{Failure("boom"), EndReason{Kind: EndError, Message: "boom"}},
			{Canceled(), EndReason{Kind: EndCanceled}},
		}
		for _, c := range cases {
			got, ok := EndReasonFor(c.n, s)
			require.True(t, ok, "%v with %v", c.n.Outcome, s)
			require.Equal(t, c.want, got, "%v with %v", c.n.Outcome, s)
			require.True(t, got.Valid())
		}
		_, ok := EndReasonFor(Notification{}, s)
		require.False(t, ok, "unknown outcome")
	}
}

func TestEndReasonValid(t *testing.T) {
	require.False(t, EndReason{}.Valid())
	require.False(t, EndReason{Kind: EndSuccess}.Valid(), "a success needs its strategy")
	require.True(t, EndReason{Kind: EndAborted}.Valid())
	require.False(t, EndReason{Kind: EndKind(9)}.Valid())
}
