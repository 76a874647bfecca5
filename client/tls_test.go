package client_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/mtls"
)

// TestDialRefusesBadTLSMaterial: material that cannot work fails Dial at
// once, before anything is dialed, with ErrInvalidArgument naming the flag
// and the file or the problem. Nothing listens at the address: a Dial that
// got as far as dialing would fail with ErrUnavailable instead.
func TestDialRefusesBadTLSMaterial(t *testing.T) {
	files, err := mtls.Generate(mtls.GenerateConfig{Dir: t.TempDir(), Names: []string{"client", "other"}, Now: time.Now(), ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	good, other := files["client"], files["other"]
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(good.Cert, good.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts []client.Option
		want string
	}{
		{"missing ca file", []client.Option{client.WithTLS(mtls.Files{CACert: "/nonexistent/ca.pem", Cert: good.Cert, Key: good.Key})}, "--cacert: open /nonexistent/ca.pem"},
		{"missing cert file", []client.Option{client.WithTLS(mtls.Files{CACert: good.CACert, Cert: "/nonexistent/c.pem", Key: good.Key})}, "--cert /nonexistent/c.pem"},
		{"junk ca", []client.Option{client.WithTLS(mtls.Files{CACert: junk, Cert: good.Cert, Key: good.Key})}, "--cacert " + junk + " holds no PEM certificate"},
		{"key of another certificate", []client.Option{client.WithTLS(mtls.Files{CACert: good.CACert, Cert: good.Cert, Key: other.Key})}, "--key " + other.Key},
		{"incomplete files", []client.Option{client.WithTLS(mtls.Files{CACert: good.CACert})}, "missing [--cert --key]"},
		{"tls.Config without a certificate", []client.Option{client.WithTLSConfig(&tls.Config{RootCAs: x509.NewCertPool()})}, "no certificate of its own"},
		{"tls.Config without a CA", []client.Option{client.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}})}, "RootCAs"},
		{"plain listener off loopback", []client.Option{client.WithListenHost("0.0.0.0")}, `WithListenHost "0.0.0.0" is not a loopback address`},
		{"two sources", []client.Option{client.WithTLS(good), client.WithTLSConfig(&tls.Config{})}, "one of WithTLS, WithTLSConfig and WithCredentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, "127.0.0.1:1", tc.opts...)
			if err == nil {
				_ = c.Close()
				t.Fatal("Dial succeeded")
			}
			if !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalidArgument naming %q", err, tc.want)
			}
		})
	}
}
