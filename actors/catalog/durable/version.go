package durable

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

const (
	// CurrentVersion is the catalog format version this build writes.
	CurrentVersion uint64 = 1
	// MinSupportedVersion is the oldest catalog version this build can open
	// (and migrate from, when writable).
	MinSupportedVersion uint64 = 1
)

// versionKey is the key of the version shard's single entry.
var versionKey = []byte("catalog_version")

// readVersion returns the version recorded in the version shard (0 if none)
// and the shard's upper.
func readVersion(ctx context.Context, s persistence.Shard) (uint64, timely.Frontier, error) {
	upper, err := s.Upper(ctx)
	if err != nil {
		return 0, upper, fmt.Errorf("%w: read version shard upper: %w", ErrBackend, err)
	}
	t, ok := upper.Time()
	if !ok {
		return 0, upper, fmt.Errorf("%w: version shard is closed", ErrCorrupt)
	}
	if t == timely.MinTimestamp {
		return 0, upper, nil
	}
	us, err := s.Snapshot(ctx, t-1)
	if err != nil {
		return 0, upper, fmt.Errorf("%w: read version shard: %w", ErrBackend, err)
	}
	var version uint64
	for _, u := range us {
		if string(u.Key) != string(versionKey) || u.Diff != 1 || version != 0 {
			return 0, upper, fmt.Errorf("%w: version shard holds unexpected entry %q (diff %d)", ErrCorrupt, u.Key, u.Diff)
		}
		v := &messages.CatalogVersion{}
		if err := proto.Unmarshal(u.Value, v); err != nil || v.GetVersion() == 0 {
			return 0, upper, fmt.Errorf("%w: version shard value %x does not decode", ErrCorrupt, u.Value)
		}
		version = v.GetVersion()
	}
	return version, upper, nil
}

// checkVersion is the version guard. It refuses a catalog written by a newer
// build or one older than minSupported. A writable open of an older (or
// fresh) catalog records build in the version shard by compare-and-append,
// so that older builds refuse to open it from then on; when the version
// shard moves under it to a newer version, the open is fenced with
// FenceMigrationUpper. Read-only and savepoint opens only read.
func checkVersion(ctx context.Context, s persistence.Shard, mode Mode, build, minSupported uint64) error {
	for {
		durable, upper, err := readVersion(ctx, s)
		if err != nil {
			return err
		}
		if durable > build || (durable != 0 && durable < minSupported) {
			return &VersionError{Durable: durable, Build: build, MinSupported: minSupported}
		}
		if mode != Writable || durable == build {
			return nil
		}
		t, _ := upper.Time()
		var updates []persistence.Update
		if durable != 0 {
			old, _ := marshal.Marshal(&messages.CatalogVersion{Version: durable})
			updates = append(updates, persistence.Update{Key: versionKey, Value: old, Ts: t, Diff: -1})
		}
		neu, _ := marshal.Marshal(&messages.CatalogVersion{Version: build})
		updates = append(updates, persistence.Update{Key: versionKey, Value: neu, Ts: t, Diff: 1})
		err = s.CompareAndAppend(ctx, updates, upper, timely.At(t+1))
		var mismatch *persistence.UpperMismatchError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &mismatch):
			now, _, rerr := readVersion(ctx, s)
			if rerr != nil {
				return rerr
			}
			if now > build {
				return &FenceError{Kind: FenceMigrationUpper, ExpectedUpper: upper, ActualUpper: mismatch.Current}
			}
			// Another build of the same or an older version raced us; look again.
		default:
			return fmt.Errorf("%w: record catalog version %d: %w", ErrBackend, build, err)
		}
	}
}
