//go:build !race

// This file runs a protoactor remote in the test process that peers
// connect to; protoactor's Remote.Shutdown races its own endpoint reader
// when such a connection closes, which -race reports now and then. The
// Makefile runs these tests without -race.

package main

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/mtls"
	"github.com/arbor-db/arbor/testkit"
)

func TestBinaryRefusesPlainRemoteOffLoopback(t *testing.T) {
	cmd, stderr := nodeCommand(t, "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--listen", "0.0.0.0:0", "--http", freeAddr(t))
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("node with a plain remote on 0.0.0.0: %v\n%s", err, stderr)
	}
	for _, flag := range []string{"--listen", "0.0.0.0:0", "--cacert", "--cert", "--key"} {
		if !strings.Contains(stderr.String(), flag) {
			t.Errorf("the message does not name %s:\n%s", flag, stderr)
		}
	}
}

func TestBinaryNamesUnreadableCertificates(t *testing.T) {
	cmd, stderr := nodeCommand(t, "--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", freeAddr(t), "--http", freeAddr(t),
		"--cacert", "/nonexistent/ca.pem", "--cert", "/nonexistent/node.pem", "--key", "/nonexistent/node-key.pem")
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("node with missing certificate files: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "--cacert") || !strings.Contains(stderr.String(), "/nonexistent/ca.pem") {
		t.Fatalf("the message does not name the flag and file:\n%s", stderr)
	}
}

// TestNodeWithMutualTLS runs a node process with certificates: a client
// system with a certificate from the same CA reaches its guardian (and is
// answered over a connection the node dials back); a client without one is
// refused, and the node counts the failed handshake.
func TestNodeWithMutualTLS(t *testing.T) {
	files, err := mtls.Generate(mtls.GenerateConfig{Dir: t.TempDir(), Names: []string{"node", "client"}, Now: time.Now(), ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	node := files["node"]
	p := runNode(t, "--cacert", node.CACert, "--cert", node.Cert, "--key", node.Key)
	guardian := &actor.PID{Address: p.listen, Id: "node"}

	sys := testkit.NewSystem(t)
	creds, err := mtls.NewCredentials(mtls.CredentialsConfig{Files: files["client"], Logger: testkit.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	testkit.StartRemote(t, sys, remote.Configure("127.0.0.1", 0, creds.RemoteOptions()...))
	res, err := sys.Root.RequestFuture(guardian, &messages.Row{}, 5*time.Second).Result()
	if err != nil {
		t.Fatalf("request over mTLS: %v", err)
	}
	if _, ok := res.(*messages.UnknownMessageReply); !ok {
		t.Fatalf("answered with %#v", res)
	}
	p.requireServing(t, "a request over mTLS")

	// A second actor system in this process would start a second remote
	// (see the Makefile on !race), so the refused peers speak Remoting
	// directly: without a certificate, and with one from another CA.
	foreign, err := mtls.Generate(mtls.GenerateConfig{Dir: t.TempDir(), Names: []string{"intruder"}, Now: time.Now(), ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	intruder := mtls.Files{CACert: node.CACert, Cert: foreign["intruder"].Cert, Key: foreign["intruder"].Key}
	intruderTLS, err := intruder.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	for name, dial := range map[string]grpc.DialOption{
		"no certificate":            grpc.WithTransportCredentials(insecure.NewCredentials()),
		"certificate of another CA": grpc.WithTransportCredentials(credentials.NewTLS(intruderTLS)),
	} {
		if err := connect(p.listen, dial); err == nil {
			t.Fatalf("%s: the node accepted the connection", name)
		}
		p.requireServing(t, name)
	}
	testkit.Eventually(t, func() bool {
		_, body := p.tryGet("/metrics")
		return strings.Contains(body, `arbor_remote_tls_handshake_failures_total{side="server"} 2`)
	}, 5*time.Second, "the node did not count both refused handshakes")
}

// connect opens a Remoting stream to addr and performs protoactor's connect
// handshake; it returns why that failed, within 5 s.
func connect(addr string, dial grpc.DialOption) error {
	conn, err := grpc.NewClient(addr, dial)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := remote.NewRemotingClient(conn).Receive(ctx)
	if err != nil {
		return err
	}
	err = stream.Send(&remote.RemoteMessage{MessageType: &remote.RemoteMessage_ConnectRequest{
		ConnectRequest: &remote.ConnectRequest{ConnectionType: &remote.ConnectRequest_ServerConnection{
			ServerConnection: &remote.ServerConnection{SystemId: "mtls-test", Address: "127.0.0.1:1"},
		}},
	}})
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}
