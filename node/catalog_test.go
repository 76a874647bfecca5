package node

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCatalogSpec(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    catalogSpec
		wantErr bool
	}{
		{in: "", want: catalogSpec{}},
		{in: "etcd://127.0.0.1:2379/prod", want: catalogSpec{Endpoints: []string{"http://127.0.0.1:2379"}, Prefix: "/prod/catalog"}},
		{in: "etcd://a:1,b:2", want: catalogSpec{Endpoints: []string{"http://a:1", "http://b:2"}, Prefix: "/arbor/catalog"}},
		{in: "pebble:///tmp/x", wantErr: true},
		{in: "etcd:///nohost", wantErr: true},
	} {
		got, err := parseCatalogSpec(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrBadConfig) {
				t.Errorf("%q: want ErrBadConfig, got %v", tc.in, err)
			}
			continue
		}
		if err != nil || got.Prefix != tc.want.Prefix || strings.Join(got.Endpoints, ";") != strings.Join(tc.want.Endpoints, ";") {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestNodeOpensItsCatalogAndExportsCatalogMetrics(t *testing.T) {
	n := startTestNode(t, testConfig(t))
	code, body := get(t, "http://"+n.HTTPAddr()+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`arbor_catalog_entries{kind="fence_token"} 1`,
		`arbor_catalog_opens_total 1`,
		`arbor_catalog_commits_total{result="ok"}`,
		`arbor_catalog_fence_events_total 0`,
		`arbor_catalog_commit_duration_seconds_count`,
		`arbor_catalog_syncs_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
