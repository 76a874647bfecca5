package pebble

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/persistence"
)

// lockChildEnv makes the re-executed test binary try to open a directory and
// report what happened.
const lockChildEnv = "ARBOR_PEBBLE_LOCK_CHILD"

func TestDataDirInUseInProcess(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	_, err = Open(dir)
	require.ErrorIs(t, err, persistence.ErrDataDirInUse)
	require.Contains(t, err.Error(), dir)
	require.NoError(t, s.Close())

	// Closing releases the directory.
	s, err = Open(dir)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestDataDirInUseByAnotherProcess(t *testing.T) {
	if os.Getenv(lockChildEnv) != "" {
		_, err := Open(os.Getenv(lockChildEnv))
		if err == nil {
			t.Fatal("child opened a directory the parent holds")
		}
		require.ErrorIs(t, err, persistence.ErrDataDirInUse)
		t.Log(err)
		return
	}
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	sh, err := s.OpenShard(context.Background(), "x")
	require.NoError(t, err)
	defer sh.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestDataDirInUseByAnotherProcess$", "-test.v")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child:\n%s", out)
	require.True(t, strings.Contains(string(out), "data dir in use"), "child:\n%s", out)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "data dir in use") {
			t.Log("child:", strings.TrimSpace(line))
		}
	}
}
