package durable

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

func settingUpdate(t *testing.T, name, value string, ts timely.Timestamp, diff int64) persistence.Update {
	e, err := newEntry(settingKey(name), &messages.CatalogValue{Kind: &messages.CatalogValue_Setting{Setting: &messages.CatalogSetting{Name: name, Value: value}}})
	require.NoError(t, err)
	return persistence.Update{Key: e.keyBytes, Value: e.valueBytes, Ts: ts, Diff: diff}
}

func TestApplyRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		initial []persistence.Update
		batch   func(t *testing.T) []persistence.Update
		want    map[string]string // setting name -> value after
		wantErr error
	}{
		{
			name: "retraction goes before insertion within a time, whatever the batch order",
			batch: func(t *testing.T) []persistence.Update {
				return []persistence.Update{settingUpdate(t, "a", "2", 1, 1), settingUpdate(t, "a", "1", 1, -1)}
			},
			want: map[string]string{"a": "2"},
		},
		{
			name: "times apply in order",
			batch: func(t *testing.T) []persistence.Update {
				return []persistence.Update{
					settingUpdate(t, "a", "3", 3, 1), settingUpdate(t, "a", "2", 3, -1),
					settingUpdate(t, "a", "2", 2, 1), settingUpdate(t, "a", "1", 2, -1),
				}
			},
			want: map[string]string{"a": "3"},
		},
		{
			name: "insert and retract of one value consolidate away",
			batch: func(t *testing.T) []persistence.Update {
				return []persistence.Update{settingUpdate(t, "b", "x", 1, 1), settingUpdate(t, "b", "x", 1, -1)}
			},
			want: map[string]string{"a": "1"},
		},
		{
			name: "insert without retracting is an error and changes nothing",
			batch: func(t *testing.T) []persistence.Update {
				return []persistence.Update{settingUpdate(t, "b", "new", 1, 1), settingUpdate(t, "a", "2", 1, 1)}
			},
			want:    map[string]string{"a": "1"},
			wantErr: ErrInconsistent,
		},
		{
			name: "mismatched retraction",
			batch: func(t *testing.T) []persistence.Update {
				return []persistence.Update{settingUpdate(t, "a", "9", 1, -1)}
			},
			want:    map[string]string{"a": "1"},
			wantErr: ErrInconsistent,
		},
		{
			name: "retraction of a missing key",
			batch: func(t *testing.T) []persistence.Update {
				return []persistence.Update{settingUpdate(t, "zz", "1", 1, -1)}
			},
			want:    map[string]string{"a": "1"},
			wantErr: ErrInconsistent,
		},
		{
			name: "double retraction",
			batch: func(t *testing.T) []persistence.Update {
				return []persistence.Update{settingUpdate(t, "a", "1", 1, -2)}
			},
			want:    map[string]string{"a": "1"},
			wantErr: ErrInconsistent,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newState()
			require.NoError(t, s.apply([]persistence.Update{settingUpdate(t, "a", "1", 0, 1)}))
			err := s.apply(tc.batch(t))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			got := map[string]string{}
			v := view{base: s}
			v.each(KindSetting, func(e *entry) { got[e.value.GetSetting().GetName()] = e.value.GetSetting().GetValue() })
			require.Equal(t, tc.want, got)
			require.Equal(t, len(tc.want), s.countsByKind()[KindSetting])
		})
	}
}
