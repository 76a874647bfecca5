//go:build !race

package main

import (
	"strings"
	"testing"

	"github.com/arbor-db/arbor/testkit/multinode"
)

// TestArborctlWithMutualTLS runs arborctl against a node process with
// certificates: with --cacert, --cert and --key it creates a table, inserts
// and peeks (the flags may come before or after the command); without them
// it fails with one line that says the node may require mutual TLS; with a
// file that does not exist it fails naming the flag and the file; with only
// some of the flags it is a usage error (exit 2).
func TestArborctlWithMutualTLS(t *testing.T) {
	c := multinode.Start(t, multinode.Config{Nodes: 1, MTLS: true})
	files := c.Files("client")
	tlsFlags := []string{"--cacert", files.CACert, "--cert", files.Cert, "--key", files.Key}
	cl := cli{t: t, addr: c.Node(0).Addr()}

	cl.ok("", append(tlsFlags, "create", "table", "orders", "--columns", "id int64 not null, customer string", "--key", "id")...)
	if out := cl.ok("[1, \"ann\"]\n[2, \"bob\"]\n", append([]string{"insert", "orders", "--rows", "-"}, tlsFlags...)...); !strings.Contains(out, "inserted 2 rows") {
		t.Fatalf("insert printed %q", out)
	}
	if out := cl.ok("", append(tlsFlags, "peek", "orders", "--where", "customer=bob")...); !strings.Contains(out, "bob") || !strings.Contains(out, "(1 rows as of") {
		t.Fatalf("peek printed %q", out)
	}

	cl.fails(1, "require mutual TLS", "get", "tables")
	cl.fails(1, "--cert /nonexistent/arborctl.pem", "--cacert", files.CACert, "--cert", "/nonexistent/arborctl.pem", "--key", files.Key, "get", "tables")
	cl.fails(2, "--cacert, --cert and --key go together: missing [--cert --key]", "--cacert", files.CACert, "get", "tables")
}
