package node

import (
	"errors"
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
