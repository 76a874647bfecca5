package persistence_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

func TestForward(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := mem.New()
	defer st.Close()
	s, err := st.OpenShard(ctx, "s")
	require.NoError(t, err)
	defer s.Close()
	l, err := s.Listen(ctx, timely.Minimum())
	require.NoError(t, err)
	defer l.Close()

	type got struct {
		ev  persistence.ListenEvent
		err error
	}
	ch := make(chan got, 10)
	stop := persistence.Forward(l, func(ev persistence.ListenEvent, err error) { ch <- got{ev, err} })
	defer stop()

	require.NoError(t, s.CompareAndAppend(ctx, []persistence.Update{{Key: []byte("a"), Ts: 0, Diff: 1}}, timely.Minimum(), timely.At(1)))
	g := <-ch
	require.NoError(t, g.err)
	require.Equal(t, timely.At(1), g.ev.Progress)
	require.NoError(t, s.CompareAndAppend(ctx, nil, timely.At(1), timely.Closed()))
	g = <-ch
	require.Equal(t, timely.Closed(), g.ev.Progress)
	g = <-ch
	require.ErrorIs(t, g.err, io.EOF)
	stop()
	stop()
}

func TestForwardStopWhileBlocked(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	defer st.Close()
	s, err := st.OpenShard(ctx, "s")
	require.NoError(t, err)
	defer s.Close()
	l, err := s.Listen(ctx, timely.Minimum())
	require.NoError(t, err)
	defer l.Close()
	called := make(chan struct{}, 1)
	stop := persistence.Forward(l, func(persistence.ListenEvent, error) { called <- struct{}{} })
	stop() // returns once the goroutine has exited; goleak checks the rest
	select {
	case <-called:
		t.Fatal("deliver called for the stop's own cancellation")
	default:
	}
}
