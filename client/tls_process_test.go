//go:build !race

package client_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc/codes"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/actors/surface/surfacetest"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/mtls"
	"github.com/arbor-db/arbor/testkit/multinode"
)

// refusedWithin bounds how long a refused client may take to fail Dial: one
// dial attempt and protoactor's 2 s pause after it (docs/client.md).
const refusedWithin = 10 * time.Second

// TestMutualTLSAgainstANodeProcess runs a node process with certificates
// (multinode's MTLS: --cacert, --cert, --key). A client with a certificate
// from the node's CA, from files or from an in-memory tls.Config, creates a
// table, writes and peeks; clients without a certificate, with one from
// another CA, or trusting another CA, are refused with an error that says
// why, within a bounded time, and the node keeps serving.
func TestMutualTLSAgainstANodeProcess(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 1, MTLS: true})
	node := c.Node(0)
	files := c.Files("client")

	cl := dial(t, node.Addr(), client.WithTLS(files))
	createOrders(t, cl)
	ts, err := cl.Insert(ctxT(t), "orders", client.Row{int64(1), "ann", int64(30)}, client.Row{int64(2), "bob", int64(10)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Peek(ctxT(t), "orders", client.AsOf(ts))
	if err != nil {
		t.Fatal(err)
	}
	requireRows(t, "peek over mTLS", sortedKeys(res.Rows), []string{"[1 ann 30]", "[2 bob 10]"})

	// The same material in memory.
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
	inMemory := dial(t, node.Addr(), client.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}))
	res, err = inMemory.Peek(ctxT(t), "orders", client.Where("customer", "bob"))
	if err != nil {
		t.Fatal(err)
	}
	requireRows(t, "peek over mTLS from a tls.Config", sortedKeys(res.Rows), []string{"[2 bob 10]"})

	foreign, err := mtls.Generate(mtls.GenerateConfig{Dir: t.TempDir(), Names: []string{"intruder"}, Now: time.Now(), ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	intruder := foreign["intruder"]
	for _, tc := range []struct {
		name string
		opts []client.Option
		want []string // in the error, besides "no environment at"
	}{
		{"no certificate", nil, []string{"require mutual TLS", "--cacert"}},
		// Trusts the node's CA, so only the node can refuse it (after the
		// handshake, in TLS 1.3): the client reads either the node's alert
		// or the connection closing, and says mutual TLS failed either way.
		{"certificate of another CA", []client.Option{client.WithTLS(mtls.Files{CACert: files.CACert, Cert: intruder.Cert, Key: intruder.Key})},
			[]string{"mutual TLS with the node at"}},
		// Refuses the node's certificate itself.
		{"another CA altogether", []client.Option{client.WithTLS(intruder)},
			[]string{"mutual TLS with the node at", "x509"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := client.Dial(ctxT(t), node.Addr(), tc.opts...)
			took := time.Since(start)
			t.Logf("refused in %s: %v", took, err)
			if err == nil {
				t.Fatal("the node accepted the client")
			}
			if !errors.Is(err, client.ErrUnavailable) {
				t.Errorf("%v is not ErrUnavailable", err)
			}
			for _, w := range append([]string{"no environment at " + node.Addr()}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q: %v", w, err)
				}
			}
			if took > refusedWithin {
				t.Errorf("refused after %s, more than %s", took, refusedWithin)
			}
		})
	}
	// The node still serves the client that has a certificate.
	if _, err := cl.Peek(ctxT(t), "orders"); err != nil {
		t.Fatalf("after the refused clients: %v", err)
	}
}

// TestClientEndpointSurvivesCrashFrames: the client's own endpoint runs
// behind the node's remote guard, so the frames that used to panic
// protoactor's endpoint reader close only their stream, and the client
// carries on.
func TestClientEndpointSurvivesCrashFrames(t *testing.T) {
	_, addr := startNode(t, t.TempDir(), environmenttest.Options{})
	cl := dial(t, addr)
	createOrders(t, cl)
	target := &actor.PID{Address: cl.LocalAddr(), Id: "session"}
	for _, f := range surfacetest.CrashFrames(target) {
		if f.Name == "unregistered type name" {
			continue // dropped, not refused: the stream stays open
		}
		p := surfacetest.Dial(t, cl.LocalAddr())
		if err := p.Send(f.Batch); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if code := p.WaitClosed(); code != codes.InvalidArgument {
			t.Fatalf("%s: the stream ended with %v, want InvalidArgument", f.Name, code)
		}
		p.Close()
	}
	if _, err := cl.Insert(ctxT(t), "orders", client.Row{int64(1), "ann", int64(30)}); err != nil {
		t.Fatalf("after the crash frames: %v", err)
	}
}
