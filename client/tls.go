package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"google.golang.org/grpc"

	"github.com/arbor-db/arbor/mtls"
)

// Mutual TLS. A node that listens off loopback requires every party to
// present a certificate from its CA (docs/cluster.md, package mtls), the
// client included. protoactor remote has no client mode: the client's own
// actor system dials the node, and the node dials the client's advertised
// address back to answer, so the client's material serves both ways: it
// presents its certificate and verifies the node's when it dials, and its
// listener presents the same certificate and requires the node's.
//
// One of WithTLS, WithTLSConfig and WithCredentials may be given; none
// means plain transport, for a node on loopback.

// WithTLS dials with mutual TLS from PEM files: the CA that signs every
// party (--cacert), the client's certificate (--cert) and its key (--key).
// Dial fails with ErrInvalidArgument, naming the flag and the file, when
// one is missing, unreadable or not what it should be (a key that does not
// match the certificate). The zero Files means plain transport.
func WithTLS(files mtls.Files) Option {
	return func(o *options) { o.tlsFiles, o.tlsGiven = files, o.tlsGiven+1 }
}

// WithTLSConfig dials with mutual TLS from material in memory: cfg's
// Certificates are the client's certificate, RootCAs the CA the node's
// certificate must chain to, and ClientCAs (RootCAs when nil) the CA the
// node must present a certificate from when it dials the client back.
// cfg is cloned; see mtls.CredentialsConfig.TLS.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(o *options) { o.tlsConfig, o.tlsGiven = cfg, o.tlsGiven+1 }
}

// WithCredentials dials with credentials the caller built with
// mtls.NewCredentials (to share one handshake-failure counter, say).
func WithCredentials(c *mtls.Credentials) Option {
	return func(o *options) { o.creds, o.tlsGiven = c, o.tlsGiven+1 }
}

// credentials returns the client's TLS credentials, nil for plain
// transport. Errors name the option and the problem.
func (o *options) credentials() (*mtls.Credentials, error) {
	if o.tlsGiven > 1 {
		return nil, fmt.Errorf("%w: give one of WithTLS, WithTLSConfig and WithCredentials", ErrInvalidArgument)
	}
	switch {
	case o.creds != nil:
		return o.creds, nil
	case o.tlsConfig != nil:
		return mtls.NewCredentials(mtls.CredentialsConfig{TLS: o.tlsConfig, Logger: o.logger})
	case o.tlsFiles.Enabled():
		return mtls.NewCredentials(mtls.CredentialsConfig{Files: o.tlsFiles, Logger: o.logger})
	}
	return nil, nil
}

// connErrors keeps, per address the client's remote dialed, why its last
// connection attempt failed, so that a call that gets no answer can say
// why (a refused certificate, a node that requires TLS) instead of only
// "no environment". Safe for concurrent use.
type connErrors struct {
	mu   sync.Mutex
	last map[string]error
}

// interceptor records the errors of the streams protoactor's endpoint
// writer opens (Remoting.Receive): the stream's creation, where a failed
// handshake surfaces, and its receives, where a certificate the node
// refused after the handshake (TLS 1.3) surfaces. A received message
// clears the address's error.
func (e *connErrors) interceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			e.set(cc.Target(), err)
			return nil, err
		}
		return &watchedStream{ClientStream: s, target: cc.Target(), errs: e}, nil
	}
}

func (e *connErrors) set(addr string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.last == nil {
		e.last = map[string]error{}
	}
	if err == nil {
		delete(e.last, addr)
		return
	}
	e.last[addr] = err
}

// get returns why the last connection to addr failed (nil when it did not).
func (e *connErrors) get(addr string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last[addr]
}

type watchedStream struct {
	grpc.ClientStream
	target string
	errs   *connErrors
}

func (s *watchedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil || !errors.Is(err, io.EOF) {
		s.errs.set(s.target, err)
	}
	return err
}

// describeConnError says why a connection to addr failed, with what to
// check: the client's TLS material, or whether the node requires TLS.
func describeConnError(addr string, err error, withTLS bool) string {
	msg := err.Error()
	tlsProblem := strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:") ||
		strings.Contains(msg, "authentication handshake failed")
	// In TLS 1.3 the client's side of the handshake ends before the node
	// has checked the client's certificate: a node that refuses it closes
	// the connection, and the client may read that as a plain EOF instead
	// of the node's alert.
	closedAfterHandshake := strings.Contains(msg, "server preface") || strings.Contains(msg, "EOF") ||
		strings.Contains(msg, "connection reset")
	switch {
	case withTLS && tlsProblem:
		return fmt.Sprintf("mutual TLS with the node at %s failed: %v (check that the node's and the client's certificates come from the CA the other trusts, and name the address dialed)", addr, msg)
	case withTLS && closedAfterHandshake:
		return fmt.Sprintf("mutual TLS with the node at %s failed: the node closed the connection after the handshake: %v (does the node trust the CA that signed this client's certificate?)", addr, msg)
	case !withTLS && !strings.Contains(msg, "connection refused"):
		return fmt.Sprintf("the node at %s closed the connection: %v (does it require mutual TLS? pass --cacert, --cert and --key, or client.WithTLS)", addr, msg)
	}
	return fmt.Sprintf("cannot connect to %s: %v", addr, msg)
}
