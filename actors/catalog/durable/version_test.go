package durable_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// durableVersion reads the version shard directly (0: none).
func (e *env) durableVersion() uint64 {
	e.t.Helper()
	_, ver := e.shards()
	u, err := ver.Upper(e.ctx)
	require.NoError(e.t, err)
	ts, _ := u.Time()
	if ts == 0 {
		return 0
	}
	us, err := ver.Snapshot(e.ctx, ts-1)
	require.NoError(e.t, err)
	require.Len(e.t, us, 1)
	v := &messages.CatalogVersion{}
	require.NoError(e.t, proto.Unmarshal(us[0].Value, v))
	return v.GetVersion()
}

func (e *env) openVersion(mode durable.Mode, build, minSupported uint64) (*durable.Handle, error) {
	cfg := e.config(mode, 1)
	cfg.BuildVersion, cfg.MinSupportedVersion = build, minSupported
	return durable.Open(e.ctx, cfg)
}

func TestVersionCompatibility(t *testing.T) {
	onBackendStores(t, func(t *testing.T, newStore func(*testing.T) persistence.Store) {
		for _, tc := range []struct {
			name                 string
			durable              uint64 // 0: fresh catalog
			build, minSupported  uint64
			mode                 durable.Mode
			wantErr              bool
			wantDurableAfterOpen uint64
		}{
			{"fresh catalog, writable", 0, 1, 1, durable.Writable, false, 1},
			{"fresh catalog, read-only writes no version", 0, 1, 1, durable.ReadOnly, false, 0},
			{"same version, writable", 1, 1, 1, durable.Writable, false, 1},
			{"same version, read-only", 1, 1, 1, durable.ReadOnly, false, 1},
			{"same version, savepoint", 1, 1, 1, durable.Savepoint, false, 1},
			{"older catalog, writable upgrades", 1, 2, 1, durable.Writable, false, 2},
			{"older catalog, read-only does not upgrade", 1, 2, 1, durable.ReadOnly, false, 1},
			{"older catalog, savepoint does not upgrade", 1, 2, 1, durable.Savepoint, false, 1},
			{"newer catalog, writable refused", 2, 1, 1, durable.Writable, true, 2},
			{"newer catalog, read-only refused", 2, 1, 1, durable.ReadOnly, true, 2},
			{"newer catalog, savepoint refused", 2, 1, 1, durable.Savepoint, true, 2},
			{"catalog too old, writable refused", 1, 3, 2, durable.Writable, true, 1},
			{"catalog too old, read-only refused", 1, 3, 2, durable.ReadOnly, true, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnvOn(t, newStore(t))
				var running *durable.Handle
				if tc.durable != 0 {
					h, err := e.openVersion(durable.Writable, tc.durable, 1)
					require.NoError(t, err)
					running = h
				}
				catalogUpper := e.upper()
				h, err := e.openVersion(tc.mode, tc.build, tc.minSupported)
				if tc.wantErr {
					require.ErrorIs(t, err, durable.ErrIncompatibleVersion)
					var ve *durable.VersionError
					require.ErrorAs(t, err, &ve)
					require.Equal(t, tc.durable, ve.Durable)
					require.Nil(t, h)
					require.Equal(t, catalogUpper, e.upper(), "a refused open writes nothing")
				} else {
					require.NoError(t, err)
				}
				require.Equal(t, tc.wantDurableAfterOpen, e.durableVersion())
				if running != nil && (tc.wantErr || tc.mode != durable.Writable) {
					require.NoError(t, running.ConfirmLeadership(e.ctx), "only a writable open fences the running writer")
				}
				if running != nil && !tc.wantErr && tc.mode == durable.Writable {
					require.ErrorIs(t, running.ConfirmLeadership(e.ctx), durable.ErrFenced)
				}
			})
		}
	})
}

// racingShard runs before() once, just before the first compare-and-append
// through it.
type racingShard struct {
	persistence.Shard
	before func()
}

func (r *racingShard) CompareAndAppend(ctx context.Context, us []persistence.Update, expected, newUpper timely.Frontier) error {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
	return r.Shard.CompareAndAppend(ctx, us, expected, newUpper)
}

func TestVersionShardMovingDuringMigrationFences(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		_, err := e.openVersion(durable.Writable, 1, 1)
		require.NoError(t, err)

		cfg := e.config(durable.Writable, 1)
		cfg.BuildVersion, cfg.MinSupportedVersion = 2, 1
		cfg.Version = &racingShard{Shard: cfg.Version, before: func() {
			_, err := e.openVersion(durable.Writable, 3, 1)
			require.NoError(t, err)
		}}
		_, err = durable.Open(e.ctx, cfg)
		var fe *durable.FenceError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, durable.FenceMigrationUpper, fe.Kind)
		require.Equal(t, timely.At(1), fe.ExpectedUpper)
		require.Equal(t, timely.At(2), fe.ActualUpper)
		require.Equal(t, uint64(3), e.durableVersion())
	})
}
