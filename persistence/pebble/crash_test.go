package pebble

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// crashChildEnv names the directory the re-executed test binary commits to
// until it is killed.
const crashChildEnv = "ARBOR_PEBBLE_CRASH_CHILD"

// crashUpdates are the updates of commit i: several keys, so a partial
// commit would show.
func crashUpdates(i timely.Timestamp) []persistence.Update {
	var out []persistence.Update
	for k := range 4 {
		out = append(out, persistence.Update{
			Key:   fmt.Appendf(nil, "c%06d/%d", i, k),
			Value: make([]byte, 512), // big enough to span WAL blocks now and then
			Ts:    i,
			Diff:  1,
		})
	}
	return out
}

// runCrashChild commits crashUpdates(i) at [i, i+1) from the shard's upper
// on, printing "committed i" after each acknowledged commit, until killed.
func runCrashChild(dir string) int {
	ctx := context.Background()
	st, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := st.OpenShard(ctx, "crash")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	upper, err := s.Upper(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	i, _ := upper.Time()
	for ; ; i++ {
		if err := s.CompareAndAppend(ctx, crashUpdates(i), timely.At(i), timely.At(i+1)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Printf("committed %d\n", i)
	}
}

// TestCrashSafety kills a committing child with SIGKILL, several times, and
// checks that reopening shows a prefix of its commits including every
// acknowledged one, and no partial commit.
func TestCrashSafety(t *testing.T) {
	dir := t.TempDir()
	var acked timely.Timestamp // commits 0..acked-1 were acknowledged
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())

		// Kill after a round-dependent number of acknowledged commits.
		target := 20 + 15*round
		sc := bufio.NewScanner(stdout)
		seen := 0
		for seen < target && sc.Scan() {
			n, err := strconv.ParseUint(strings.TrimPrefix(sc.Text(), "committed "), 10, 64)
			require.NoError(t, err, "child said %q", sc.Text())
			acked = timely.Timestamp(n) + 1
			seen++
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		// Keep reading so the child is never blocked on a full pipe.
		for sc.Scan() {
			n, _ := strconv.ParseUint(strings.TrimPrefix(sc.Text(), "committed "), 10, 64)
			acked = timely.Timestamp(n) + 1
		}
		err = cmd.Wait()
		require.Error(t, err, "the child was killed")
		require.Equal(t, target, seen, "child stopped early: %s", stderr.String())

		upper := checkCrashPrefix(t, dir)
		require.True(t, at(acked).LessEqual(upper), "round %d: acknowledged %d commits, upper %s", round, acked, upper)
		require.True(t, upper.LessEqual(at(acked+1)), "round %d: at most one unacknowledged commit", round)
		t.Logf("round %d: acknowledged %d, durable upper %s", round, acked, upper)
	}
}

var at = timely.At

// checkCrashPrefix reopens dir and checks that the shard holds exactly
// commits 0..upper-1, each complete.
func checkCrashPrefix(t *testing.T, dir string) timely.Frontier {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := Open(dir)
	require.NoError(t, err, "reopen after SIGKILL")
	defer st.Close()
	s, err := st.OpenShard(ctx, "crash")
	require.NoError(t, err)
	defer s.Close()
	upper, err := s.Upper(ctx)
	require.NoError(t, err)
	n, _ := upper.Time()
	require.NotZero(t, n)
	got, err := s.Snapshot(ctx, n-1)
	require.NoError(t, err)
	var want []persistence.Update
	for i := range n {
		for _, u := range crashUpdates(i) {
			u.Ts = n - 1
			want = append(want, u)
		}
	}
	require.Equal(t, persistence.Consolidate(want), got, "every commit below the upper is complete, none above")
	return upper
}
