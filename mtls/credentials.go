package mtls

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/arbor-db/arbor/metrics"
)

// CredentialsConfig configures NewCredentials.
type CredentialsConfig struct {
	// Files is the party's material; all three are required, unless TLS
	// is set instead.
	Files Files
	// TLS is the party's material in memory, instead of Files (not both):
	// Certificates (or GetCertificate and GetClientCertificate) is the
	// party's own certificate, RootCAs the CA peers it dials must chain to,
	// ClientCAs (RootCAs when nil) the CA peers that dial it must chain to.
	// The listening side always requires a client certificate; a
	// MinVersion below TLS 1.3 is raised to it. The config is cloned.
	TLS *tls.Config
	// Logger (slog.Default() when nil) gets the first handshake failure of
	// each side at Warn, later ones at Debug.
	Logger *slog.Logger
	// Registerer for arbor_remote_tls_handshake_failures_total; nil means
	// unregistered.
	Registerer prometheus.Registerer
}

// Credentials are one party's gRPC transport credentials, for the port it
// listens on and the connections it dials. A nil *Credentials means plain
// transport (RemoteOptions then adds nothing). Safe for concurrent use.
type Credentials struct {
	server, client credentials.TransportCredentials
	failures       *prometheus.CounterVec
	logger         *slog.Logger
	logged         sync.Map // sides whose first failure was logged at Warn
}

// Handshake sides, the label values of arbor_remote_tls_handshake_failures_total.
const (
	SideServer = "server" // a peer dialed us and failed (no certificate, another CA, not TLS)
	SideClient = "client" // we dialed a peer and failed (its certificate did not verify)
)

// NewCredentials reads the files and builds both sides. It fails when the
// files are incomplete or unreadable, or the counter cannot be registered.
func NewCredentials(cfg CredentialsConfig) (*Credentials, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	serverTLS, clientTLS, err := cfg.configs()
	if err != nil {
		return nil, err
	}
	c := &Credentials{
		logger: cfg.Logger,
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbor_remote_tls_handshake_failures_total",
			Help: "TLS handshakes on the remote port (server) or to peers (client) that failed, by side.",
		}, []string{"side"}),
	}
	if err := metrics.Into(cfg.Registerer, &c.failures); err != nil {
		return nil, fmt.Errorf("mtls: metrics: %w", err)
	}
	c.server = &counted{TransportCredentials: credentials.NewTLS(serverTLS), owner: c}
	c.client = &counted{TransportCredentials: credentials.NewTLS(clientTLS), owner: c}
	return c, nil
}

// configs builds both sides' TLS configs from Files or TLS.
func (cfg CredentialsConfig) configs() (server, client *tls.Config, err error) {
	if cfg.TLS == nil {
		if server, err = cfg.Files.ServerConfig(); err != nil {
			return nil, nil, err
		}
		if client, err = cfg.Files.ClientConfig(); err != nil {
			return nil, nil, err
		}
		return server, client, nil
	}
	if cfg.Files.Enabled() {
		return nil, nil, fmt.Errorf("%w: both files (--cacert, --cert, --key) and an in-memory tls.Config given", ErrBadMaterial)
	}
	t := cfg.TLS
	if len(t.Certificates) == 0 && (t.GetCertificate == nil || t.GetClientCertificate == nil) {
		return nil, nil, fmt.Errorf("%w: the tls.Config has no certificate of its own (Certificates)", ErrBadMaterial)
	}
	if t.RootCAs == nil {
		return nil, nil, fmt.Errorf("%w: the tls.Config has no CA to verify peers with (RootCAs)", ErrBadMaterial)
	}
	client = t.Clone()
	server = t.Clone()
	for _, c := range []*tls.Config{client, server} {
		if c.MinVersion < tls.VersionTLS13 {
			c.MinVersion = tls.VersionTLS13
		}
	}
	server.ClientAuth = tls.RequireAndVerifyClientCert
	if server.ClientCAs == nil {
		server.ClientCAs = t.RootCAs
	}
	return server, client, nil
}

// ServerOption installs the listening side on a gRPC server.
func (c *Credentials) ServerOption() grpc.ServerOption { return grpc.Creds(c.server) }

// DialOption installs the dialing side on a gRPC client connection.
func (c *Credentials) DialOption() grpc.DialOption { return grpc.WithTransportCredentials(c.client) }

// RemoteOptions are the protoactor remote options for a party that serves
// with serverOpts (the remote guard's interceptors, for a node). protoactor's
// WithServerOptions and WithDialOptions replace what was set before rather
// than add to it, so every server option must be passed here, in one call.
// On a nil *Credentials the result is plain transport: serverOpts alone and
// protoactor's default (insecure) dial.
func (c *Credentials) RemoteOptions(serverOpts ...grpc.ServerOption) []remote.ConfigOption {
	if c == nil {
		return []remote.ConfigOption{remote.WithServerOptions(serverOpts...)}
	}
	all := append(append([]grpc.ServerOption(nil), serverOpts...), c.ServerOption())
	return []remote.ConfigOption{
		remote.WithServerOptions(all...),
		remote.WithDialOptions(c.DialOption()),
	}
}

// RemoteOptionsWith is RemoteOptions for a party that also dials with
// dialOpts (interceptors that watch its connections, say): the transport
// credentials (insecure ones on a nil *Credentials) come first, in the same
// one WithDialOptions call, since a second call would replace the first.
func (c *Credentials) RemoteOptionsWith(serverOpts []grpc.ServerOption, dialOpts []grpc.DialOption) []remote.ConfigOption {
	transport := grpc.WithTransportCredentials(insecure.NewCredentials())
	var server []grpc.ServerOption
	server = append(server, serverOpts...)
	if c != nil {
		transport = c.DialOption()
		server = append(server, c.ServerOption())
	}
	return []remote.ConfigOption{
		remote.WithServerOptions(server...),
		remote.WithDialOptions(append([]grpc.DialOption{transport}, dialOpts...)...),
	}
}

// Failures returns how many handshakes failed on side (SideServer or
// SideClient) so far.
func (c *Credentials) Failures(side string) float64 {
	var m dto.Metric
	if err := c.failures.WithLabelValues(side).Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

func (c *Credentials) failed(side, peer string, err error) {
	c.failures.WithLabelValues(side).Inc()
	level := slog.LevelDebug
	if _, seen := c.logged.LoadOrStore(side, struct{}{}); !seen {
		level = slog.LevelWarn
	}
	c.logger.Log(context.Background(), level,
		"TLS handshake failed (first one per side at warn; counted in arbor_remote_tls_handshake_failures_total)",
		"side", side, "peer", peer, "err", err)
}

// counted is TLS transport credentials that report failed handshakes.
type counted struct {
	credentials.TransportCredentials
	owner *Credentials
}

func (t *counted) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := t.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		t.owner.failed(SideClient, authority, err)
	}
	return conn, info, err
}

func (t *counted) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := t.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		t.owner.failed(SideServer, raw.RemoteAddr().String(), err)
	}
	return conn, info, err
}

func (t *counted) Clone() credentials.TransportCredentials {
	return &counted{TransportCredentials: t.TransportCredentials.Clone(), owner: t.owner}
}
