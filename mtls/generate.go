package mtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// GenerateConfig says what Generate writes.
type GenerateConfig struct {
	// Dir receives ca.pem and ca-key.pem, and <name>.pem and <name>-key.pem
	// for each name. It is created (0700) when missing.
	Dir string
	// Names are the parties to issue certificates for ("node1", "client").
	// Each certificate serves both as server and as client certificate,
	// since every protoactor party listens and dials.
	Names []string
	// Hosts are the DNS names and IP addresses every certificate names, the
	// addresses peers dial (advertised addresses, proxies in front of them).
	// Empty means loopback: localhost, 127.0.0.1 and ::1.
	Hosts []string
	// Now is the start of validity (backdated by an hour for clock skew).
	// Required: certificates are only as good as the clock they are made by.
	Now time.Time
	// ValidFor is how long the certificates are valid; 0 means one year.
	ValidFor time.Duration
}

// Generate writes a fresh CA and one certificate per name into cfg.Dir and
// returns each party's Files. Keys are ECDSA P-256, written 0600. An
// existing file is overwritten.
func Generate(cfg GenerateConfig) (map[string]Files, error) {
	if cfg.Dir == "" || cfg.Now.IsZero() {
		return nil, errors.New("mtls: generate: Dir and Now are required")
	}
	if cfg.ValidFor == 0 {
		cfg.ValidFor = 365 * 24 * time.Hour
	}
	if len(cfg.Hosts) == 0 {
		cfg.Hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("mtls: generate: %w", err)
	}
	ca, err := NewCA("arbor CA", cfg.Now, cfg.ValidFor)
	if err != nil {
		return nil, err
	}
	caPath := filepath.Join(cfg.Dir, "ca.pem")
	if err := writePEM(caPath, "CERTIFICATE", ca.cert.Raw, 0o644); err != nil {
		return nil, err
	}
	caKey, err := x509.MarshalECPrivateKey(ca.key)
	if err != nil {
		return nil, fmt.Errorf("mtls: generate: %w", err)
	}
	if err := writePEM(filepath.Join(cfg.Dir, "ca-key.pem"), "EC PRIVATE KEY", caKey, 0o600); err != nil {
		return nil, err
	}
	out := make(map[string]Files, len(cfg.Names))
	for _, name := range cfg.Names {
		certDER, keyDER, err := ca.Issue(name, cfg.Hosts, cfg.Now, cfg.ValidFor)
		if err != nil {
			return nil, err
		}
		f := Files{CACert: caPath, Cert: filepath.Join(cfg.Dir, name+".pem"), Key: filepath.Join(cfg.Dir, name+"-key.pem")}
		if err := writePEM(f.Cert, "CERTIFICATE", certDER, 0o644); err != nil {
			return nil, err
		}
		if err := writePEM(f.Key, "EC PRIVATE KEY", keyDER, 0o600); err != nil {
			return nil, err
		}
		out[name] = f
	}
	return out, nil
}

// CA is a certificate authority held in memory.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA valid from an hour before now for validFor.
func NewCA(commonName string, now time.Time, validFor time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mtls: CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Arbor"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("mtls: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("mtls: CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key}, nil
}

// CertPEM is the CA's certificate, PEM encoded.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

// Issue signs a new key pair for commonName, naming hosts (DNS names or IP
// addresses) and usable for both server and client authentication. It
// returns the certificate and the SEC 1 private key, DER encoded.
func (ca *CA) Issue(commonName string, hosts []string, now time.Time, validFor time.Duration) (certDER, keyDER []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mtls: key for %s: %w", commonName, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"Arbor"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("mtls: certificate for %s: %w", commonName, err)
	}
	keyDER, err = x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("mtls: key for %s: %w", commonName, err)
	}
	return certDER, keyDER, nil
}

func newSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("mtls: serial number: %w", err)
	}
	return s, nil
}

func writePEM(path, blockType string, der []byte, mode os.FileMode) error {
	b := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, b, mode); err != nil {
		return fmt.Errorf("mtls: generate: %w", err)
	}
	return nil
}
