package durable_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/catalog/durable"
)

func TestFenceTokenOrder(t *testing.T) {
	require.True(t, tok(1, 5).Less(tok(2, 1)), "generation orders first")
	require.True(t, tok(1, 1).Less(tok(1, 2)))
	require.Equal(t, 0, tok(3, 3).Compare(tok(3, 3)))
	require.Less(t, durable.FenceDeployGeneration, durable.FenceEpoch)
	require.Less(t, durable.FenceEpoch, durable.FenceMigrationUpper)
}

func TestFenceableTokenTransitions(t *testing.T) {
	type step struct {
		ev        durable.TokenEvent
		state     durable.TokenState
		illegal   bool
		validate  durable.FenceKind // 0: Validate returns nil
		wantFence durable.FenceToken
	}
	for _, tc := range []struct {
		name       string
		durable    durable.FenceToken
		generation uint64
		steps      []step
	}{
		{"open then fenced by epoch", tok(1, 3), 1, []step{
			{ev: durable.TokenObserved{Token: tok(1, 4)}, state: durable.TokenInitializing},
			{ev: durable.TokenCommitted{Token: tok(1, 5)}, state: durable.TokenUnfenced},
			{ev: durable.TokenObserved{Token: tok(1, 5)}, state: durable.TokenUnfenced},
			{ev: durable.TokenObserved{Token: tok(1, 6)}, state: durable.TokenFenced, validate: durable.FenceEpoch, wantFence: tok(1, 6)},
			{ev: durable.TokenObserved{Token: tok(1, 9)}, state: durable.TokenFenced, validate: durable.FenceEpoch, wantFence: tok(1, 6)},
			{ev: durable.TokenCommitted{Token: tok(1, 10)}, state: durable.TokenFenced, illegal: true, validate: durable.FenceEpoch, wantFence: tok(1, 6)},
		}},
		{"fenced by a newer generation", tok(0, 0), 1, []step{
			{ev: durable.TokenCommitted{Token: tok(1, 1)}, state: durable.TokenUnfenced},
			{ev: durable.TokenObserved{Token: tok(2, 2)}, state: durable.TokenFenced, validate: durable.FenceDeployGeneration, wantFence: tok(2, 2)},
		}},
		{"newer generation seen while opening", tok(1, 1), 1, []step{
			{ev: durable.TokenObserved{Token: tok(2, 2)}, state: durable.TokenFenced, validate: durable.FenceDeployGeneration, wantFence: tok(2, 2)},
		}},
		{"illegal: older token while unfenced", tok(1, 1), 1, []step{
			{ev: durable.TokenCommitted{Token: tok(1, 2)}, state: durable.TokenUnfenced},
			{ev: durable.TokenObserved{Token: tok(1, 1)}, state: durable.TokenUnfenced, illegal: true},
			{ev: durable.TokenCommitted{Token: tok(1, 3)}, state: durable.TokenUnfenced, illegal: true},
		}},
		{"illegal: commit of a token not after the durable one", tok(1, 4), 1, []step{
			{ev: durable.TokenCommitted{Token: tok(1, 4)}, state: durable.TokenInitializing, illegal: true},
			{ev: durable.TokenCommitted{Token: tok(2, 5)}, state: durable.TokenInitializing, illegal: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := durable.NewFenceableToken(tc.durable, tc.generation)
			for i, s := range tc.steps {
				next, err := ft.Transition(s.ev)
				if s.illegal {
					require.ErrorIs(t, err, durable.ErrIllegalTransition, "step %d", i)
				} else {
					require.NoError(t, err, "step %d", i)
				}
				ft = next
				require.Equal(t, s.state, ft.State(), "step %d", i)
				err = ft.Validate()
				if s.validate == 0 {
					require.NoError(t, err, "step %d", i)
					continue
				}
				var fe *durable.FenceError
				require.ErrorAs(t, err, &fe, "step %d", i)
				require.Equal(t, s.validate, fe.Kind, "step %d", i)
				require.Equal(t, s.wantFence, fe.Fence, "step %d", i)
			}
		})
	}
}

func TestGenerateProposesNextEpoch(t *testing.T) {
	next, err := durable.NewFenceableToken(tok(1, 7), 2).Generate()
	require.NoError(t, err)
	require.Equal(t, tok(2, 8), next)
	_, err = durable.NewFenceableToken(tok(3, 7), 2).Generate()
	var fe *durable.FenceError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, durable.FenceDeployGeneration, fe.Kind)
}
