package cluster

import (
	"errors"
	"slices"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
)

func TestParseProvider(t *testing.T) {
	for _, tc := range []struct {
		in        string
		kind      string
		endpoints []string
		prefix    string
		bad       bool
	}{
		{in: "", kind: providerStatic},
		{in: "static", kind: providerStatic},
		{in: "etcd://127.0.0.1:2379", kind: providerEtcd, endpoints: []string{"127.0.0.1:2379"}, prefix: "/arbor/members"},
		{in: "etcd://h1:2379,h2:2379/prod/arbor/", kind: providerEtcd, endpoints: []string{"h1:2379", "h2:2379"}, prefix: "/prod/arbor"},
		{in: "etcd://", bad: true},
		{in: "etcd://h1", bad: true},
		{in: "etcd://h1:2379,,h2:2379", bad: true},
		{in: "consul://h1:8500", bad: true},
		{in: "http://h1:2379", bad: true},
	} {
		kind, target, err := parseProvider(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrConfig) {
				t.Errorf("%q: want ErrConfig, got %v", tc.in, err)
			}
			continue
		}
		if err != nil || kind != tc.kind || !slices.Equal(target.endpoints, tc.endpoints) || target.prefix != tc.prefix {
			t.Errorf("%q: got %s %+v %v", tc.in, kind, target, err)
		}
	}
}

func TestConfigFill(t *testing.T) {
	props := func() (*actor.Props, error) {
		return actor.PropsFromProducer(func() actor.Actor { return markerActor{} }), nil
	}
	ok := func() Config {
		return Config{Remote: remote.Configure("127.0.0.1", 0), Join: []string{"127.0.0.1:6330"}, RuntimeProps: props}
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		bad    bool
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "environment only needs no runtime", change: func(c *Config) { c.Roles = []string{RoleEnvironment}; c.RuntimeProps = nil }},
		{name: "etcd needs no join", change: func(c *Config) { c.Provider = "etcd://127.0.0.1:2379"; c.Join = nil }},
		{name: "no remote", change: func(c *Config) { c.Remote = nil }, bad: true},
		{name: "unknown role", change: func(c *Config) { c.Roles = []string{"storage"} }, bad: true},
		{name: "compute without runtime", change: func(c *Config) { c.RuntimeProps = nil }, bad: true},
		{name: "static without join", change: func(c *Config) { c.Join = nil }, bad: true},
		{name: "join without port", change: func(c *Config) { c.Join = []string{"h1"} }, bad: true},
		{name: "name with a slash", change: func(c *Config) { c.NodeName = "a/b" }, bad: true},
	} {
		c := ok()
		tc.change(&c)
		_, _, err := c.fill()
		if tc.bad != (err != nil) || (err != nil && !errors.Is(err, ErrConfig)) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err == nil && (len(c.Roles) == 0 || c.ClusterName == "" || c.RuntimeKind == "" || c.Clock == nil) {
			t.Errorf("%s: defaults not filled: %+v", tc.name, c)
		}
	}
}
