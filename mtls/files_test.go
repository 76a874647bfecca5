package mtls_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/mtls"
	"github.com/arbor-db/arbor/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.LeakOptions()...) }

// now is a fixed instant certificates are made at in tests: the material
// must not depend on when the test runs, only be valid while it does.
var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func generate(t *testing.T, names ...string) map[string]mtls.Files {
	t.Helper()
	files, err := mtls.Generate(mtls.GenerateConfig{Dir: t.TempDir(), Names: names, Now: time.Now(), ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files mtls.Files
		want  string // "" means valid
	}{
		{"none", mtls.Files{}, ""},
		{"all", mtls.Files{CACert: "ca", Cert: "c", Key: "k"}, ""},
		{"no key", mtls.Files{CACert: "ca", Cert: "c"}, "[--key]"},
		{"only cacert", mtls.Files{CACert: "ca"}, "[--cert --key]"},
		{"no cacert", mtls.Files{Cert: "c", Key: "k"}, "[--cacert]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.files.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, mtls.ErrIncompleteFiles) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrIncompleteFiles naming %s", err, tc.want)
			}
			if !errors.Is(err, messages.ErrInvalidArgument) {
				t.Fatalf("%v is not an invalid argument", err)
			}
		})
	}
}

func TestCheckListen(t *testing.T) {
	certs := mtls.Files{CACert: "ca", Cert: "c", Key: "k"}
	for _, tc := range []struct {
		listen string
		files  mtls.Files
		ok     bool
	}{
		{"127.0.0.1:6880", mtls.Files{}, true},
		{"127.9.9.9:0", mtls.Files{}, true},
		{"[::1]:6880", mtls.Files{}, true},
		{"localhost:6880", mtls.Files{}, true},
		{"0.0.0.0:0", mtls.Files{}, false},
		{":6880", mtls.Files{}, false},
		{"[::]:6880", mtls.Files{}, false},
		{"10.0.0.5:6880", mtls.Files{}, false},
		{"node1.internal:6880", mtls.Files{}, false},
		{"0.0.0.0:0", certs, true},
		{"10.0.0.5:6880", certs, true},
	} {
		err := mtls.CheckListen(tc.listen, tc.files)
		if tc.ok && err != nil {
			t.Errorf("%s with %v: %v", tc.listen, tc.files.Enabled(), err)
		}
		if !tc.ok {
			if !errors.Is(err, mtls.ErrCertificatesRequired) {
				t.Errorf("%s without certificates: got %v", tc.listen, err)
				continue
			}
			for _, want := range []string{tc.listen, "--cacert", "--cert", "--key"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not name %s", err, want)
				}
			}
		}
	}
	if err := mtls.CheckListen("no-port", mtls.Files{}); err == nil {
		t.Error("an address without a port passed")
	}
}

func TestConfigsNameTheBadFile(t *testing.T) {
	files := generate(t, "node")["node"]
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := generate(t, "other")["other"]
	for _, tc := range []struct {
		name  string
		files mtls.Files
		want  string
	}{
		{"missing ca", mtls.Files{CACert: "/nonexistent/ca.pem", Cert: files.Cert, Key: files.Key}, "--cacert"},
		{"junk ca", mtls.Files{CACert: junk, Cert: files.Cert, Key: files.Key}, "--cacert " + junk},
		{"junk cert", mtls.Files{CACert: files.CACert, Cert: junk, Key: files.Key}, "--cert " + junk},
		{"key of another cert", mtls.Files{CACert: files.CACert, Cert: files.Cert, Key: other.Key}, "--key " + other.Key},
		{"incomplete", mtls.Files{CACert: files.CACert}, "--cert"},
		{"none", mtls.Files{}, "no files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for side, build := range map[string]func() error{
				"server": func() error { _, err := tc.files.ServerConfig(); return err },
				"client": func() error { _, err := tc.files.ClientConfig(); return err },
			} {
				err := build()
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: got %v, want an error naming %q", side, err, tc.want)
				}
			}
		})
	}
	if _, err := files.ServerConfig(); err != nil {
		t.Fatalf("generated material: %v", err)
	}
}

func TestGenerateWritesVerifiableMaterial(t *testing.T) {
	dir := t.TempDir()
	files, err := mtls.Generate(mtls.GenerateConfig{Dir: dir, Names: []string{"node1", "client"},
		Hosts: []string{"127.0.0.1", "node1.internal"}, Now: now, ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files["node1"].CACert != filepath.Join(dir, "ca.pem") {
		t.Fatalf("files: %+v", files)
	}
	for _, name := range []string{"ca-key.pem", "node1-key.pem", "client-key.pem"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", name, st.Mode().Perm())
		}
	}
	caPEM, _ := os.ReadFile(files["node1"].CACert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	certPEM, _ := os.ReadFile(files["node1"].Cert)
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "node1.internal"} {
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: now.Add(time.Minute),
				KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("%s for usage %v: %v", host, usage, err)
			}
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now.Add(2 * time.Hour)}); err == nil {
		t.Error("the certificate verifies after ValidFor")
	}
	if _, err := mtls.Generate(mtls.GenerateConfig{Dir: dir}); err == nil {
		t.Error("Generate without Now succeeded")
	}
}

func TestRegisterFlags(t *testing.T) {
	var f mtls.Files
	fs := flag.NewFlagSet("arborctl", flag.ContinueOnError)
	f.RegisterFlags(fs)
	if err := fs.Parse([]string{"--cacert", "ca.pem", "--cert", "c.pem", "--key", "k.pem"}); err != nil {
		t.Fatal(err)
	}
	if f != (mtls.Files{CACert: "ca.pem", Cert: "c.pem", Key: "k.pem"}) {
		t.Fatalf("got %+v", f)
	}
}

func TestCredentialsFromAnInMemoryConfig(t *testing.T) {
	files := generate(t, "client")["client"]
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(files.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	if _, err := mtls.NewCredentials(mtls.CredentialsConfig{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}}); err != nil {
		t.Fatalf("a complete config: %v", err)
	}
	for _, tc := range []struct {
		name string
		cfg  mtls.CredentialsConfig
		want string
	}{
		{"no certificate", mtls.CredentialsConfig{TLS: &tls.Config{RootCAs: pool}}, "no certificate of its own"},
		{"no CA", mtls.CredentialsConfig{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, "RootCAs"},
		{"files too", mtls.CredentialsConfig{Files: files, TLS: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}}, "both files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mtls.NewCredentials(tc.cfg)
			if !errors.Is(err, mtls.ErrBadMaterial) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrBadMaterial naming %q", err, tc.want)
			}
		})
	}
}
