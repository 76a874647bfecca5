package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/etcd/etcdtest"
	"github.com/arbor-db/arbor/timely"
)

// TestContendingClients races appenders that each have their own etcd
// client, as separate processes would: exactly one wins each upper, and a
// listener on yet another client sees every winner in order.
func TestContendingClients(t *testing.T) {
	endpoints := etcdtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	reader := dial(t, endpoints, "/arbor/contend")
	defer reader.Close()
	rs, err := reader.OpenShard(ctx, "catalog")
	require.NoError(t, err)
	defer rs.Close()
	l, err := rs.Listen(ctx, timely.Minimum())
	require.NoError(t, err)
	defer l.Close()

	const clients, commits = 3, 10
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		st := dial(t, endpoints, "/arbor/contend")
		defer st.Close()
		s, err := st.OpenShard(ctx, "catalog")
		require.NoError(t, err)
		defer s.Close()
		wg.Go(func() {
			ts := timely.Timestamp(0)
			for done := 0; done < commits; {
				u := persistence.Update{Key: fmt.Appendf(nil, "c%d", c), Ts: ts, Diff: 1}
				err := s.CompareAndAppend(ctx, []persistence.Update{u}, timely.At(ts), timely.At(ts+1))
				var m *persistence.UpperMismatchError
				switch {
				case errors.As(err, &m):
					ts, _ = m.Current.Time()
				case err != nil:
					errs <- err
					return
				default:
					ts++
					done++
				}
			}
		})
	}
	var got []persistence.Update
	for len(got) < clients*commits {
		ev, err := l.Next(ctx)
		require.NoError(t, err)
		got = append(got, ev.Updates...)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	counts := map[string]int{}
	for i, u := range got {
		require.Equal(t, timely.Timestamp(i), u.Ts, "one winner per upper")
		counts[string(u.Key)]++
	}
	for c := range clients {
		require.Equal(t, commits, counts[fmt.Sprintf("c%d", c)])
	}
}

// TestTooLarge: an append that cannot fit in one etcd transaction is
// refused before it is sent, and nothing is written.
func TestTooLarge(t *testing.T) {
	endpoints := etcdtest.Start(t, etcdtest.NoFsync())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := dial(t, endpoints, "/arbor/big")
	defer st.Close()
	s, err := st.OpenShard(ctx, "t")
	require.NoError(t, err)
	defer s.Close()
	big := persistence.Update{Key: []byte("k"), Value: make([]byte, MaxTxnBytes+1), Diff: 1}
	err = s.CompareAndAppend(ctx, []persistence.Update{big}, timely.Minimum(), timely.At(1))
	require.ErrorIs(t, err, persistence.ErrTooLarge)
	u, err := s.Upper(ctx)
	require.NoError(t, err)
	require.Equal(t, timely.Minimum(), u)
}

// TestDialFailsFast: an endpoint with no server is an error from Dial, not
// from the first append.
func TestDialFailsFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, []string{"http://127.0.0.1:1"}, "/x")
	require.Error(t, err)
}

// TestServerRestartDurability: what etcd acknowledged survives a restart of
// the etcd server itself, not only a new client.
func TestServerRestartDurability(t *testing.T) {
	srv := etcdtest.StartServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := dial(t, srv.Endpoints, "/arbor/restart")
	s, err := st.OpenShard(ctx, "catalog")
	require.NoError(t, err)
	for i := range timely.Timestamp(5) {
		u := persistence.Update{Key: fmt.Appendf(nil, "k%d", i), Ts: i, Diff: 1}
		require.NoError(t, s.CompareAndAppend(ctx, []persistence.Update{u}, timely.At(i), timely.At(i+1)))
	}
	require.NoError(t, s.DowngradeSince(ctx, timely.At(2)))
	require.NoError(t, s.Close())
	require.NoError(t, st.Close())

	srv.Restart()

	st = dial(t, srv.Endpoints, "/arbor/restart")
	defer st.Close()
	s, err = st.OpenShard(ctx, "catalog")
	require.NoError(t, err)
	defer s.Close()
	upper, err := s.Upper(ctx)
	require.NoError(t, err)
	require.Equal(t, timely.At(5), upper)
	since, err := s.Since(ctx)
	require.NoError(t, err)
	require.Equal(t, timely.At(2), since)
	snap, err := s.Snapshot(ctx, 4)
	require.NoError(t, err)
	require.Len(t, snap, 5)
}
