//go:build !race

// Two protoactor remotes in one process: see the Makefile on why these tests
// do not run under the race detector.

package mtls_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/mtls"
	"github.com/arbor-db/arbor/testkit"
)

// party is one actor system with remote on loopback; creds nil means plain.
type party struct {
	sys   *actor.ActorSystem
	creds *mtls.Credentials
}

func startParty(t *testing.T, files *mtls.Files) party {
	t.Helper()
	return startPartyLogging(t, files, testkit.QuietLogger())
}

func startPartyLogging(t *testing.T, files *mtls.Files, logger *slog.Logger) party {
	t.Helper()
	sys := testkit.NewSystem(t)
	var creds *mtls.Credentials
	if files != nil {
		var err error
		if creds, err = mtls.NewCredentials(mtls.CredentialsConfig{Files: *files, Logger: logger}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := remote.Configure("127.0.0.1", 0, creds.RemoteOptions()...)
	// A refused dial is retried MaxRetryCount times, 2 s apart, inside the
	// endpoint writer's Started, and remote's shutdown waits for it; one
	// attempt keeps a refused party's cleanup short.
	cfg.MaxRetryCount = 1
	testkit.StartRemote(t, sys, cfg)
	return party{sys: sys, creds: creds}
}

// echo answers every Row with itself.
func (p party) echo(t *testing.T) *actor.PID {
	t.Helper()
	pid, err := p.sys.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if row, ok := ctx.Message().(*messages.Row); ok {
			ctx.Respond(row)
		}
	}), "echo")
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestPeersWithCertificatesFromTheCAExchangeMessages(t *testing.T) {
	files := generate(t, "node", "client")
	node, client := files["node"], files["client"]
	server := startParty(t, &node)
	caller := startParty(t, &client)
	echo := server.echo(t)

	// The request travels on a connection the caller dials, the reply on
	// one the server dials back: both directions are mutual TLS.
	for i := range 3 {
		res, err := caller.sys.Root.RequestFuture(echo, &messages.Row{}, testkit.DefaultTimeout).Result()
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if _, ok := res.(*messages.Row); !ok {
			t.Fatalf("request %d answered with %T", i, res)
		}
	}
	for _, p := range []party{server, caller} {
		for _, side := range []string{mtls.SideServer, mtls.SideClient} {
			if n := p.creds.Failures(side); n != 0 {
				t.Errorf("%v handshake failures on side %s", n, side)
			}
		}
	}
}

func TestPeersWithoutTheCAAreRefused(t *testing.T) {
	files := generate(t, "node")
	node := files["node"]
	foreign := generate(t, "intruder")["intruder"]

	for _, tc := range []struct {
		name  string
		files *mtls.Files
	}{
		{"plain", nil},
		// Trusts the node's CA, so only the node can refuse it.
		{"certificate of another CA", &mtls.Files{CACert: node.CACert, Cert: foreign.Cert, Key: foreign.Key}},
		// Refuses the node's certificate itself.
		{"another CA altogether", &foreign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log lockedBuffer
			server := startPartyLogging(t, &node, slog.New(slog.NewTextHandler(&log, nil)))
			echo := server.echo(t)
			caller := startParty(t, tc.files)
			_, err := caller.sys.Root.RequestFuture(echo, &messages.Row{}, 2*time.Second).Result()
			if err == nil {
				t.Fatal("the request was answered")
			}
			// The node saw the failed handshake (the caller aborted it,
			// or the node refused the caller's certificate).
			testkit.Eventually(t, func() bool { return server.creds.Failures(mtls.SideServer) >= 1 },
				testkit.DefaultTimeout, "the node counted no handshake failure")
			if got := log.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "TLS handshake failed") ||
				!strings.Contains(got, "side=server") {
				t.Fatalf("the node's log does not show the failed handshake:\n%s", got)
			}
		})
	}
}

// lockedBuffer is a log destination safe for the logging goroutines and the
// test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRemoteOptionsWithKeepsDialOptionsAndCredentials: a party built from
// an in-memory tls.Config, with a dial interceptor of its own, talks to a
// node over mTLS, and its interceptor sees the connection (protoactor's
// WithDialOptions replaces, so both must come from one call).
func TestRemoteOptionsWithKeepsDialOptionsAndCredentials(t *testing.T) {
	files := generate(t, "node", "client")
	node, client := files["node"], files["client"]
	server := startParty(t, &node)
	echo := server.echo(t)

	cert, err := tls.LoadX509KeyPair(client.Cert, client.Key)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(client.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	creds, err := mtls.NewCredentials(mtls.CredentialsConfig{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool},
		Logger: testkit.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var streams atomic.Int32
	count := grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		streams.Add(1)
		return streamer(ctx, desc, cc, method, opts...)
	})
	sys := testkit.NewSystem(t)
	cfg := remote.Configure("127.0.0.1", 0, creds.RemoteOptionsWith(nil, []grpc.DialOption{count})...)
	cfg.MaxRetryCount = 1
	testkit.StartRemote(t, sys, cfg)
	if _, err := sys.Root.RequestFuture(echo, &messages.Row{}, testkit.DefaultTimeout).Result(); err != nil {
		t.Fatalf("request over mTLS from an in-memory config: %v", err)
	}
	if streams.Load() == 0 {
		t.Error("the dial interceptor saw no stream")
	}
	if n := server.creds.Failures(mtls.SideServer); n != 0 {
		t.Errorf("the node counted %v handshake failures", n)
	}
}
