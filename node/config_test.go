package node

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg != DefaultConfig() {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.DataDir != "./data" || cfg.Listen != "127.0.0.1:6880" || cfg.HTTP != "127.0.0.1:6881" {
		t.Fatalf("documented defaults changed: %+v", cfg)
	}
}

func TestParseConfigFileAndFlagPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.json")
	os.WriteFile(path, []byte(`{"data-dir": "/var/arbor", "listen": "0.0.0.0:7000", "advertise": "node1:7000", "log-level": "debug"}`), 0o644)
	cfg, err := ParseConfig([]string{"--config", path, "--listen", "127.0.0.1:7001"})
	if err != nil {
		t.Fatal(err)
	}
	// Keys the file and flags leave alone keep their defaults.
	want := DefaultConfig()
	want.DataDir, want.Listen, want.Advertise, want.LogLevel = "/var/arbor", "127.0.0.1:7001", "node1:7000", "debug"
	if cfg != want {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestParseConfigErrors(t *testing.T) {
	dir := t.TempDir()
	unknownKey := filepath.Join(dir, "unknown.json")
	os.WriteFile(unknownKey, []byte(`{"data_dir": "x"}`), 0o644)
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte(`{"listen": `), 0o644)
	cases := map[string][]string{
		"unknown flag":       {"--nope"},
		"stray argument":     {"extra"},
		"bad log level":      {"--log-level", "loud"},
		"empty data dir":     {"--data-dir", ""},
		"missing file":       {"--config", filepath.Join(dir, "absent.json")},
		"unknown key":        {"--config", unknownKey},
		"malformed json":     {"--config", broken},
		"empty http address": {"--http", ""},
	}
	for name, args := range cases {
		if _, err := ParseConfig(args); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: err = %v, want ErrBadConfig", name, err)
		}
	}
}
