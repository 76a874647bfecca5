// Package mtls owns mutual TLS on Arbor's network surface: between nodes and
// from clients to nodes. Every party (node, arborctl, the client library)
// names its material the same way, as Files: --cacert (the CA that signs
// every party), --cert and --key (its own certificate and key, PEM).
//
//   - Files.ServerConfig is the TLS config of a remote port: it requires a
//     client certificate and verifies it against the CA. Files.ClientConfig
//     is the dialing side: it presents the party's certificate and verifies
//     the peer's chain against the CA and the dialed host against the
//     certificate's names.
//   - Credentials wraps both as gRPC transport credentials that count and log
//     handshake failures (arbor_remote_tls_handshake_failures_total{side}),
//     and RemoteOptions turns them into protoactor remote options
//     (RemoteOptionsWith for a party with dial options of its own, such as
//     the client library's interceptor). protoactor
//     remote is both a server and a client: a reply travels over a connection
//     the replying side dials, so a client program's own small actor system
//     needs the same material as a node (its certificate is used for both).
//   - CredentialsConfig.TLS takes the material from an in-memory
//     *tls.Config instead of Files (client.WithTLSConfig).
//   - CheckListen refuses a non-loopback listen address without certificates:
//     plain remote is only for loopback.
//   - Generate writes a CA and certificates for named parties into a
//     directory, for tests and for operators (cmd/arbor-certs).
//
// A client program (arborctl, the client library) runs its own small actor
// system with remote, since protoactor has no client-only mode. With mTLS it
// takes the three flags and starts that remote with the credentials:
//
//	var files mtls.Files
//	files.RegisterFlags(flag.CommandLine) // --cacert, --cert, --key
//	flag.Parse()
//	var creds *mtls.Credentials // nil: plain, for a node on loopback
//	if files.Enabled() {
//		creds, err = mtls.NewCredentials(mtls.CredentialsConfig{Files: files})
//	}
//	r := remote.NewRemote(sys, remote.Configure("127.0.0.1", 0, creds.RemoteOptions()...))
//
// Invariants: with Files set, no connection in either direction is made
// without a certificate chain to the configured CA; the minimum version is
// TLS 1.3 (every party is Arbor's own). Certificates are read once, when the
// configs are built; rotating them means restarting the party.
package mtls
