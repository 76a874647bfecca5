package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
)

// Files names one party's TLS material, as PEM files. It is the option
// struct every Arbor program shares: the node's --cacert, --cert and --key
// (and the same keys in its JSON config), arborctl's flags, and the client
// library's dial option. The zero value means plain (insecure) transport.
type Files struct {
	// CACert is the CA certificate that signs every party's certificate.
	CACert string `json:"cacert,omitempty"`
	// Cert is this party's certificate, signed by CACert.
	Cert string `json:"cert,omitempty"`
	// Key is the private key of Cert.
	Key string `json:"key,omitempty"`
}

// RegisterFlags defines --cacert, --cert and --key on fs, writing into f,
// with the help text every Arbor program shares (arborctl, client programs;
// the node defines the same flags beside its config file).
func (f *Files) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&f.CACert, "cacert", f.CACert, "PEM file of the CA that signs every node's and client's certificate (mTLS)")
	fs.StringVar(&f.Cert, "cert", f.Cert, "PEM file of this program's certificate, signed by --cacert (mTLS)")
	fs.StringVar(&f.Key, "key", f.Key, "PEM file of the private key of --cert (mTLS)")
}

// Enabled reports whether any file is named. Validate then says whether the
// set is complete.
func (f Files) Enabled() bool { return f.CACert != "" || f.Cert != "" || f.Key != "" }

// Validate checks that the files are named all together or not at all. It
// does not read them (ServerConfig and ClientConfig do).
func (f Files) Validate() error {
	if !f.Enabled() || (f.CACert != "" && f.Cert != "" && f.Key != "") {
		return nil
	}
	var missing []string
	for _, m := range []struct{ flag, v string }{{"--cacert", f.CACert}, {"--cert", f.Cert}, {"--key", f.Key}} {
		if m.v == "" {
			missing = append(missing, m.flag)
		}
	}
	return fmt.Errorf("%w: missing %v", ErrIncompleteFiles, missing)
}

// ServerConfig is the TLS config of a listening party: it presents Cert and
// requires every client to present a certificate that chains to CACert.
func (f Files) ServerConfig() (*tls.Config, error) {
	cert, pool, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// ClientConfig is the TLS config of a dialing party: it presents Cert and
// accepts a server whose certificate chains to CACert and names the dialed
// host (gRPC fills ServerName from the address it dials).
func (f Files) ClientConfig() (*tls.Config, error) {
	cert, pool, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
	}, nil
}

// load reads the three files. Every error names the flag and the file.
func (f Files) load() (tls.Certificate, *x509.CertPool, error) {
	if !f.Enabled() {
		return tls.Certificate{}, nil, fmt.Errorf("%w: no files named (--cacert, --cert, --key)", ErrBadMaterial)
	}
	if err := f.Validate(); err != nil {
		return tls.Certificate{}, nil, err
	}
	caPEM, err := os.ReadFile(f.CACert)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("%w: --cacert: %v", ErrBadMaterial, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return tls.Certificate{}, nil, fmt.Errorf("%w: --cacert %s holds no PEM certificate", ErrBadMaterial, f.CACert)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("%w: --cert %s, --key %s: %v", ErrBadMaterial, f.Cert, f.Key, err)
	}
	return cert, pool, nil
}
