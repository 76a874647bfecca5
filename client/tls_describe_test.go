package client

import (
	"errors"
	"strings"
	"testing"
)

// A node that refuses the client's certificate may show up on the client's
// side as its TLS alert or, in TLS 1.3, as the connection closing after a
// handshake the client thought complete; both must read as a mutual TLS
// failure, and a plain client's closed connection as a hint to use TLS.
func TestDescribeConnError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     string
		withTLS bool
		want    string
	}{
		{"alert", "authentication handshake failed: remote error: tls: unknown certificate authority", true, "mutual TLS with the node at n:1 failed: "},
		{"closed after the handshake", `connection error: desc = "error reading server preface: EOF"`, true, "the node closed the connection after the handshake"},
		{"reset after the handshake", "read: connection reset by peer", true, "does the node trust the CA"},
		{"plain client closed", `connection error: desc = "error reading server preface: EOF"`, false, "does it require mutual TLS?"},
		{"refused", "dial tcp: connection refused", true, "cannot connect to n:1"},
		{"plain refused", "dial tcp: connection refused", false, "cannot connect to n:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := describeConnError("n:1", errors.New(tc.err), tc.withTLS)
			if !strings.Contains(got, tc.want) {
				t.Fatalf("describeConnError(%q, tls=%v) = %q, want it to contain %q", tc.err, tc.withTLS, got, tc.want)
			}
		})
	}
}
