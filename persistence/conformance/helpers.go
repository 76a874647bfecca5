package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// testTimeout bounds every call the suite makes, so a hung backend fails
// the test instead of the whole run.
const testTimeout = 20 * time.Second

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func upd(key, value string, ts timely.Timestamp, diff int64) persistence.Update {
	return persistence.Update{Key: []byte(key), Value: []byte(value), Ts: ts, Diff: diff}
}

// show renders updates as "key=value@ts:diff" for readable comparisons.
func show(us []persistence.Update) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, fmt.Sprintf("%s=%s@%d:%d", u.Key, u.Value, u.Ts, u.Diff))
	}
	return out
}

// openShard opens a fresh store and one shard in it, closed at cleanup.
func openShard(t *testing.T, h Harness) (persistence.Store, persistence.Shard) {
	t.Helper()
	st := h.NewStore(t)
	sh, err := st.OpenShard(ctxFor(t), "test")
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = sh.Close()
		_ = st.Close()
	})
	return st, sh
}

func appendOK(t *testing.T, s persistence.Shard, updates []persistence.Update, lower, upper timely.Frontier) {
	t.Helper()
	require.NoError(t, s.CompareAndAppend(ctxFor(t), updates, lower, upper))
}

func snapshot(t *testing.T, s persistence.Shard, asOf timely.Timestamp) []string {
	t.Helper()
	us, err := s.Snapshot(ctxFor(t), asOf)
	require.NoError(t, err)
	return show(us)
}

func upperOf(t *testing.T, s persistence.Shard) timely.Frontier {
	t.Helper()
	u, err := s.Upper(ctxFor(t))
	require.NoError(t, err)
	return u
}

func sinceOf(t *testing.T, s persistence.Shard) timely.Frontier {
	t.Helper()
	u, err := s.Since(ctxFor(t))
	require.NoError(t, err)
	return u
}

func next(t *testing.T, l persistence.Listener) persistence.ListenEvent {
	t.Helper()
	ev, err := l.Next(ctxFor(t))
	require.NoError(t, err)
	return ev
}

var at = timely.At
