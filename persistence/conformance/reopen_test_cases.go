package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// testReopenDurability: what was acknowledged survives closing and
// reopening the store, as a restarted process would see it.
func testReopenDurability(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("backend keeps nothing across reopen")
	}
	st := h.NewStore(t)
	s, err := st.OpenShard(ctxFor(t), "test")
	require.NoError(t, err)
	appendOK(t, s, []persistence.Update{upd("a", "1", 0, 1), upd("b", "1", 1, 1)}, at(0), at(2))
	appendOK(t, s, []persistence.Update{upd("a", "1", 2, -1)}, at(2), at(4))
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(3)))
	other, err := st.OpenShard(ctxFor(t), "other")
	require.NoError(t, err)
	appendOK(t, other, nil, at(0), timely.Closed())
	require.NoError(t, s.Close())
	require.NoError(t, other.Close())

	st = h.Reopen(t, st)
	defer st.Close()
	s, err = st.OpenShard(ctxFor(t), "test")
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, at(4), upperOf(t, s))
	require.Equal(t, at(3), sinceOf(t, s))
	require.Equal(t, []string{"b=1@3:1"}, snapshot(t, s, 3))
	appendOK(t, s, []persistence.Update{upd("c", "1", 4, 1)}, at(4), at(5))
	require.Equal(t, []string{"b=1@4:1", "c=1@4:1"}, snapshot(t, s, 4))

	other, err = st.OpenShard(ctxFor(t), "other")
	require.NoError(t, err)
	defer other.Close()
	require.Equal(t, timely.Closed(), upperOf(t, other))
}
