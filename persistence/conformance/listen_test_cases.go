package conformance

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

func testListenOrderAndProgress(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	l, err := s.Listen(ctxFor(t), timely.Minimum())
	require.NoError(t, err)
	defer l.Close()

	appendOK(t, s, []persistence.Update{upd("b", "", 1, 1), upd("a", "", 1, 1), upd("z", "", 0, 1)}, at(0), at(2))
	ev := next(t, l)
	require.Equal(t, []string{"z=@0:1", "a=@1:1", "b=@1:1"}, show(ev.Updates), "time, then key order")
	require.Equal(t, at(2), ev.Progress)

	appendOK(t, s, nil, at(2), at(4))
	ev = next(t, l)
	require.Empty(t, ev.Updates, "progress only")
	require.Equal(t, at(4), ev.Progress)

	// Two appends before the next Next arrive together, in order.
	appendOK(t, s, []persistence.Update{upd("a", "", 4, -1)}, at(4), at(5))
	appendOK(t, s, []persistence.Update{upd("c", "", 6, 1), upd("c", "", 5, 1)}, at(5), at(7))
	var got []string
	for progress := timely.Minimum(); progress != at(7); {
		ev := next(t, l)
		got = append(got, show(ev.Updates)...)
		require.True(t, progress.LessThan(ev.Progress))
		progress = ev.Progress
	}
	require.Equal(t, []string{"a=@4:-1", "c=@5:1", "c=@6:1"}, got)

	appendOK(t, s, []persistence.Update{upd("d", "", 7, 1)}, at(7), timely.Closed())
	ev = next(t, l)
	require.Equal(t, []string{"d=@7:1"}, show(ev.Updates))
	require.Equal(t, timely.Closed(), ev.Progress)
	_, err = l.Next(ctxFor(t))
	require.ErrorIs(t, err, io.EOF)
}

func testListenFromThePast(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, []persistence.Update{upd("a", "", 0, 1), upd("b", "", 2, 1), upd("c", "", 3, 1)}, at(0), at(4))
	appendOK(t, s, []persistence.Update{upd("d", "", 5, 1)}, at(4), at(6))
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(1)))

	l, err := s.Listen(ctxFor(t), at(2))
	require.NoError(t, err)
	defer l.Close()
	ev := next(t, l)
	require.Equal(t, []string{"b=@2:1", "c=@3:1", "d=@5:1"}, show(ev.Updates), "from inside a batch")
	require.Equal(t, at(6), ev.Progress)

	// Listening from exactly the since yields the contents as of since at since.
	l2, err := s.Listen(ctxFor(t), at(1))
	require.NoError(t, err)
	defer l2.Close()
	ev = next(t, l2)
	require.Equal(t, []string{"a=@1:1", "b=@2:1", "c=@3:1", "d=@5:1"}, show(ev.Updates))

	// Listening from beyond the upper waits too, and then yields the
	// updates at or after from of the batch appended across it.
	l4, err := s.Listen(ctxFor(t), at(8))
	require.NoError(t, err)
	defer l4.Close()

	// Listening from the upper waits for new data.
	l3, err := s.Listen(ctxFor(t), at(6))
	require.NoError(t, err)
	defer l3.Close()
	appendOK(t, s, []persistence.Update{upd("e", "", 6, 1)}, at(6), at(7))
	ev = next(t, l3)
	require.Equal(t, []string{"e=@6:1"}, show(ev.Updates))
	require.Equal(t, at(7), ev.Progress)

	appendOK(t, s, []persistence.Update{upd("f", "", 7, 1), upd("g", "", 8, 1), upd("h", "", 9, 1)}, at(7), at(10))
	ev = next(t, l4)
	require.Equal(t, []string{"g=@8:1", "h=@9:1"}, show(ev.Updates), "from inside a batch appended after Listen")
	require.Equal(t, at(10), ev.Progress)
}

func testListenSinceErrors(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	appendOK(t, s, []persistence.Update{upd("a", "", 0, 1)}, at(0), at(3))
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(2)))
	_, err := s.Listen(ctxFor(t), at(1))
	var se *persistence.SinceError
	require.ErrorAs(t, err, &se)
	require.Equal(t, at(2), se.Since)

	l, err := s.Listen(ctxFor(t), at(3))
	require.NoError(t, err)
	defer l.Close()
	appendOK(t, s, []persistence.Update{upd("b", "", 3, 1)}, at(3), at(5))
	// Compacting up to the listener's position is fine ...
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(3)))
	ev := next(t, l)
	require.Equal(t, []string{"b=@3:1"}, show(ev.Updates))
	// ... past it is not: the listener cannot be exact any more.
	appendOK(t, s, []persistence.Update{upd("c", "", 5, 1)}, at(5), at(7))
	require.NoError(t, s.DowngradeSince(ctxFor(t), at(6)))
	_, err = l.Next(ctxFor(t))
	require.ErrorAs(t, err, &se)
	require.Equal(t, at(5), se.AsOf)
	require.Equal(t, at(6), se.Since)
}

func testListenBlocksAndCloses(t *testing.T, h Harness) {
	_, s := openShard(t, h)
	l, err := s.Listen(ctxFor(t), timely.Minimum())
	require.NoError(t, err)

	// Nothing appended: Next waits until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = l.Next(ctx)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// Close from another goroutine ends a blocked Next.
	done := make(chan error, 1)
	go func() {
		_, err := l.Next(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, l.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, persistence.ErrClosed)
	case <-time.After(testTimeout):
		t.Fatal("Close did not end a blocked Next")
	}
	require.NoError(t, l.Close(), "Close is idempotent")

	// Closing the shard handle closes its listeners.
	l2, err := s.Listen(ctxFor(t), timely.Minimum())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = l2.Next(ctxFor(t))
	require.True(t, errors.Is(err, persistence.ErrClosed), "got %v", err)
}

// testListenAheadOfUpper: a listener made before the upper reaches its
// from yields its first event once it does. Whether that event holds the
// contents as of since is settled by the since at Listen, not by where the
// since has moved meanwhile.
func testListenAheadOfUpper(t *testing.T, h Harness) {
	t.Run("from the since", func(t *testing.T) {
		_, s := openShard(t, h)
		appendOK(t, s, []persistence.Update{upd("a", "", 1, 1)}, at(0), at(3))
		require.NoError(t, s.DowngradeSince(ctxFor(t), at(3)))
		l, err := s.Listen(ctxFor(t), at(3))
		require.NoError(t, err)
		defer l.Close()
		appendOK(t, s, []persistence.Update{upd("b", "", 4, 1)}, at(3), at(5))
		ev := next(t, l)
		require.Equal(t, []string{"a=@3:1", "b=@4:1"}, show(ev.Updates), "contents as of since, then the new batch")
		require.Equal(t, at(5), ev.Progress)
	})
	t.Run("since reaches from later", func(t *testing.T) {
		_, s := openShard(t, h)
		appendOK(t, s, []persistence.Update{upd("a", "", 1, 1)}, at(0), at(3))
		l, err := s.Listen(ctxFor(t), at(6))
		require.NoError(t, err)
		defer l.Close()
		require.NoError(t, s.DowngradeSince(ctxFor(t), at(6))) // ahead of the upper: allowed
		appendOK(t, s, []persistence.Update{upd("c", "", 4, 1)}, at(3), at(5))
		appendOK(t, s, []persistence.Update{upd("d", "", 5, 1), upd("e", "", 7, 1)}, at(5), at(8))
		ev := next(t, l)
		require.Equal(t, []string{"e=@7:1"}, show(ev.Updates), "only updates at or after from")
		require.Equal(t, at(8), ev.Progress)
	})
}
