package durable_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
)

// The catalog's errors carry wire codes and match the generic sentinels,
// and still match their own sentinels only.
func TestErrorsCarryCodes(t *testing.T) {
	fe := &durable.FenceError{Kind: durable.FenceEpoch}
	require.ErrorIs(t, fe, durable.ErrFenced)
	require.ErrorIs(t, fe, messages.ErrFenced)
	require.Equal(t, messages.ErrorCode_ERROR_CODE_FENCED, messages.ErrorToWire(fmt.Errorf("commit: %w", fe)).GetCode())

	ve := &durable.VersionError{Durable: 3, Build: 2}
	require.ErrorIs(t, ve, durable.ErrIncompatibleVersion)
	require.Equal(t, durable.ErrIncompatibleVersion.Code(), messages.CodeOf(ve))

	nf := fmt.Errorf("%w: cluster u1", durable.ErrNotFound)
	require.ErrorIs(t, nf, messages.ErrNotFound)
	require.False(t, errors.Is(nf, durable.ErrAlreadyExists))
	require.False(t, errors.Is(durable.ErrCorrupt, durable.ErrInconsistent), "sentinels of one code stay apart locally")
}
