package node

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseClusterFlags(t *testing.T) {
	cfg, err := ParseConfig([]string{"--join", "127.0.0.1:6330, 127.0.0.1:6331", "--node-name", "n2", "--roles", "compute",
		"--membership-listen", "127.0.0.1:6331", "--member-timeout", "4s"})
	require.NoError(t, err)
	require.True(t, cfg.ClusterConfig.Enabled())
	require.Equal(t, []string{"127.0.0.1:6330", "127.0.0.1:6331"}, cfg.JoinList())
	require.Equal(t, []string{"compute"}, cfg.RoleList())
	require.False(t, cfg.HasRole("environment"))
	require.Equal(t, "n2", cfg.NodeName)
	require.Equal(t, "4s", cfg.MemberTimeout)

	cfg, err = ParseConfig([]string{"--cluster-provider", "etcd://127.0.0.1:2379/arbor"})
	require.NoError(t, err)
	require.Equal(t, []string{"compute", "environment"}, cfg.RoleList(), "both roles by default")
	require.Equal(t, defaultMemberTimeout, cfg.memberTimeout())

	alone, err := ParseConfig(nil)
	require.NoError(t, err)
	require.False(t, alone.ClusterConfig.Enabled(), "no --join, no --cluster-provider: a node alone, as before")
}

func TestParseClusterFlagErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"an unknown role":                  {"--join", "127.0.0.1:6330", "--roles", "compute,storage"},
		"no role":                          {"--join", "127.0.0.1:6330", "--roles", ","},
		"compute-only alone":               {"--roles", "compute"},
		"join and provider":                {"--join", "127.0.0.1:6330", "--cluster-provider", "etcd://127.0.0.1:2379"},
		"a join entry without a port":      {"--join", "127.0.0.1"},
		"a provider that is not etcd":      {"--cluster-provider", "consul://127.0.0.1:8500"},
		"a node name with a slash":         {"--join", "127.0.0.1:6330", "--node-name", "a/b"},
		"a bad member timeout":             {"--join", "127.0.0.1:6330", "--member-timeout", "soon"},
		"a negative member timeout":        {"--join", "127.0.0.1:6330", "--member-timeout", "-1s"},
		"a membership listen with no port": {"--join", "127.0.0.1:6330", "--membership-listen", "127.0.0.1"},
	} {
		_, err := ParseConfig(args)
		require.True(t, errors.Is(err, ErrBadConfig), "%s: %v", name, err)
	}
}
