package node

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Bad --storage and --read-only combinations are refused before anything
// starts, each naming the flag.
func TestDeployFlagsBadInput(t *testing.T) {
	base := []string{"--data-dir", t.TempDir()}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--storage", "pebble:///x"}, "--storage"},
		{[]string{"--storage", "etcd://"}, "--storage"},
		{[]string{"--read-only"}, "--read-only"},
		{[]string{"--read-only", "--catalog", "etcd://127.0.0.1:2379/a"}, "--read-only"},
		{[]string{"--read-only", "--storage", "etcd://127.0.0.1:2379/a"}, "--read-only"},
	}
	for _, c := range cases {
		_, err := ParseConfig(append(base, c.args...))
		if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want ErrBadConfig naming %s", c.args, err, c.want)
		}
	}
	cfg, err := ParseConfig(append(base, "--read-only", "--catalog", "etcd://h:1/a", "--storage", "etcd://h:1/a", "--deploy-generation", "2"))
	if err != nil || !cfg.ReadOnly || cfg.Storage != "etcd://h:1/a" {
		t.Fatalf("a good read-only config: %+v %v", cfg, err)
	}
	spec, _ := parseStorageSpec("etcd://h:1,h:2/p")
	if strings.Join(spec.Endpoints, ",") != "http://h:1,http://h:2" || spec.Prefix != "/p/storage" {
		t.Fatalf("storage spec %+v", spec)
	}
}

// TestPromoteOnlyFromLoopback: POST /promote from another host is refused
// with 403 naming the rule, before anything is promoted; from loopback it
// reaches the node (here a serving one: 409, not read-only is checked by
// cmd/node's deploy test).
func TestPromoteOnlyFromLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:40000", true},
		{"[::1]:40000", true},
		{"192.0.2.7:40000", false},
		{"[2001:db8::1]:40000", false},
		{"10.0.0.1:1", false},
		{"not an address", false},
		{"", false},
	} {
		err := promoteAllowedFrom(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("promoteAllowedFrom(%q) = %v, want allowed %v", tc.addr, err, tc.ok)
		}
	}
	mux := http.NewServeMux()
	(&Node{}).promotionRoutes(mux)
	req := httptest.NewRequest(http.MethodPost, "/promote", nil)
	req.RemoteAddr = "192.0.2.7:40000"
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "loopback only") {
		t.Fatalf("POST /promote from 192.0.2.7: %d %s", rec.Code, rec.Body.String())
	}
}
