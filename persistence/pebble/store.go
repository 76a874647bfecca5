package pebble

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
)

// Open opens (creating if needed) the Pebble database in dir and returns a
// Store over it. It fails with an error wrapping persistence.ErrDataDirInUse
// when the directory is already open, in this process or another. Close the
// Store to release the directory.
func Open(dir string) (persistence.Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open pebble store: %w", err)
	}
	lock, err := pebble.LockDirectory(dir, vfs.Default)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return nil, fmt.Errorf("open pebble store %s: %w", dir, err)
		}
		return nil, fmt.Errorf("open pebble store %s: %w (its LOCK is held by another process or store: %v)",
			dir, persistence.ErrDataDirInUse, err)
	}
	db, err := pebble.Open(dir, &pebble.Options{Lock: lock, Logger: logger{}})
	if err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("open pebble store %s: %w", dir, err)
	}
	return kvshard.NewStore(newKV(db, lock), ""), nil
}

// logger sends Pebble's informational messages to slog at debug level, so
// tests and nodes stay quiet.
type logger struct{}

// Infof logs at debug level.
func (logger) Infof(format string, args ...any) {
	slog.Debug("pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf reports an invariant Pebble found broken; Pebble requires that it
// not return.
func (logger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	slog.Error(msg)
	panic(msg)
}
