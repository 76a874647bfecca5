package node

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/mtls"
)

func TestParseConfigTLSFilesFromFileAndFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.json")
	os.WriteFile(path, []byte(`{"listen": "0.0.0.0:7000", "cacert": "/etc/arbor/ca.pem", "cert": "/etc/arbor/node.pem", "key": "/etc/arbor/old-key.pem"}`), 0o644)
	cfg, err := ParseConfig([]string{"--config", path, "--key", "/etc/arbor/node-key.pem"})
	if err != nil {
		t.Fatal(err)
	}
	want := mtls.Files{CACert: "/etc/arbor/ca.pem", Cert: "/etc/arbor/node.pem", Key: "/etc/arbor/node-key.pem"}
	if cfg.Files != want || cfg.Listen != "0.0.0.0:7000" {
		t.Fatalf("got %+v", cfg)
	}
}

func TestParseConfigRefusesExposedPlainRemote(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want []string
		is   error
	}{
		"any address":   {[]string{"--listen", "0.0.0.0:0"}, []string{"0.0.0.0:0", "--cacert", "--cert", "--key"}, mtls.ErrCertificatesRequired},
		"no host":       {[]string{"--listen", ":6880"}, []string{":6880", "--cacert"}, mtls.ErrCertificatesRequired},
		"a LAN address": {[]string{"--listen", "10.1.2.3:6880"}, []string{"10.1.2.3:6880", "--cert"}, mtls.ErrCertificatesRequired},
		"no key":        {[]string{"--cacert", "ca.pem", "--cert", "node.pem"}, []string{"--key"}, mtls.ErrIncompleteFiles},
	} {
		_, err := ParseConfig(tc.args)
		if !errors.Is(err, ErrBadConfig) || !errors.Is(err, tc.is) {
			t.Errorf("%s: err = %v, want ErrBadConfig and %v", name, err, tc.is)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not name %s", name, err, w)
			}
		}
	}
}
