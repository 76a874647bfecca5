// Package etcdtest starts a real, single-member embedded etcd server for
// tests: on loopback ports chosen free, with its data in t.TempDir(), its logs
// silenced, and shut down at the end of the test.
//
// Goroutines: once the server's cleanup and every client's Close have run,
// nothing of etcd's is left running (goleak.VerifyTestMain passes with no
// ignores; IgnoreLeaks is the place for any a future etcd needs).
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

// Option tunes the server Start runs.
type Option func(*embed.Config)

// NoFsync turns off etcd's fsync: faster, and unsafe for anything but tests
// whose subject is not durability.
func NoFsync() Option { return func(c *embed.Config) { c.UnsafeNoFsync = true } }

// Start runs an embedded etcd server until the test ends and returns its
// client endpoints. It fails the test if the server is not ready within 20 s.
func Start(t testing.TB, opts ...Option) []string {
	t.Helper()
	return StartServer(t, opts...).Endpoints
}

// Server is a running embedded etcd server that a test can stop and
// restart on the same data directory and ports, to check durability across
// a server restart.
type Server struct {
	// Endpoints are the client URLs; they stay the same across Restart.
	Endpoints []string

	t   testing.TB
	cfg *embed.Config
	e   *embed.Etcd // nil while stopped
}

// StartServer is Start returning the Server. It is stopped when the test
// ends.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var lastErr error
	// A port picked free may be taken before etcd binds it; try again.
	for range 3 {
		cfg, err := newConfig(t.TempDir(), opts)
		if err != nil {
			lastErr = err
			continue
		}
		e, err := run(cfg)
		if err != nil {
			lastErr = err
			continue
		}
		s := &Server{Endpoints: []string{cfg.AdvertiseClientUrls[0].String()}, t: t, cfg: cfg, e: e}
		t.Cleanup(s.Stop)
		return s
	}
	t.Fatalf("etcdtest: start embedded etcd: %v", lastErr)
	return nil
}

// Stop shuts the server down and waits for it. It is idempotent.
func (s *Server) Stop() {
	if s.e != nil {
		s.e.Close()
		s.e = nil
	}
}

// Restart stops the server and starts it again on the same directory and
// ports, as a restarted etcd process would be.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	e, err := run(s.cfg)
	if err != nil {
		s.t.Fatalf("etcdtest: restart embedded etcd: %v", err)
	}
	s.e = e
}

func newConfig(dir string, opts []Option) (*embed.Config, error) {
	clientURL, err := freeURL()
	if err != nil {
		return nil, err
	}
	peerURL, err := freeURL()
	if err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Name = "etcdtest"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	for _, o := range opts {
		o(cfg)
	}
	return cfg, nil
}

func run(cfg *embed.Config) (*embed.Etcd, error) {
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(20 * time.Second):
		e.Close()
		return nil, fmt.Errorf("server not ready after 20s")
	}
}

// freeURL returns http://127.0.0.1:<port> for a port that was free a moment
// ago.
func freeURL() (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "http", Host: addr}, nil
}

// NewClient returns a quiet client of the server at endpoints, closed when
// the test ends (cleanups run last-in first-out, so before the server
// stops).
func NewClient(t testing.TB, endpoints []string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// IgnoreLeaks returns the goleak options a package using Start needs. It is
// empty today: with the server's Close and every client closed, nothing of
// etcd's outlives a test (verified by this module's etcd tests). It exists
// so that callers keep working if an etcd upgrade brings a process-lifetime
// goroutine.
func IgnoreLeaks() []goleak.Option { return nil }
