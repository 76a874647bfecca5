package node

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/arbor-db/arbor/mtls"
)

// Config is everything a node needs to start. Every field has a flag of the
// same name and a key of the same name in the --config file; a flag given on
// the command line wins over the file, and the file over the default.
type Config struct {
	DataDir   string `json:"data-dir"`
	Listen    string `json:"listen"`
	Advertise string `json:"advertise"`
	HTTP      string `json:"http"`
	LogLevel  string `json:"log-level"`
	// Catalog is "" (Pebble under DataDir) or etcd://host:port/prefix.
	Catalog string `json:"catalog"`
	// DeployGeneration is this deployment's generation; a node of a newer
	// generation fences older ones out of the catalog.
	DeployGeneration uint64 `json:"deploy-generation"`

	// Shared storage and zero-downtime deploys (docs/deploy.md).

	// Storage is "" (Pebble under DataDir) or etcd://host:port/prefix:
	// table shards on etcd, shared by the environments of successive
	// deploy generations and fenced by the catalog's token.
	Storage string `json:"storage"`
	// ReadOnly boots the node read-only, awaiting promotion (POST
	// /promote): catalog and storage opened without writing, clusters
	// hydrated, no client served. It needs a shared --catalog and
	// --storage.
	ReadOnly bool `json:"read-only"`

	// Files are the node's mTLS material (--cacert, --cert, --key; the same
	// keys in the file). With them the remote port requires and verifies
	// client certificates and peers are dialed with the node's certificate;
	// without them the remote is plain and must listen on loopback.
	mtls.Files

	// Cluster mode: --join, --cluster-provider, --node-name, --roles,
	// --membership-listen, --member-timeout (cluster_config.go).
	ClusterConfig
}

// DefaultConfig is a single node on loopback with its data under ./data.
func DefaultConfig() Config {
	return Config{
		DataDir:  "./data",
		Listen:   "127.0.0.1:6880",
		HTTP:     "127.0.0.1:6881",
		LogLevel: "info",
	}
}

// ParseConfig reads flags (args excludes the program name) and the optional
// --config file.
func ParseConfig(args []string) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("arbor-node", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	configPath := fs.String("config", "", "path of a JSON config file with the same keys as these flags")
	dataDir := fs.String("data-dir", cfg.DataDir, "directory for the node's durable state")
	listen := fs.String("listen", cfg.Listen, "host:port for protoactor remote")
	advertise := fs.String("advertise", cfg.Advertise, "host:port other nodes use to reach this one (default: the listen address)")
	httpAddr := fs.String("http", cfg.HTTP, "host:port for /metrics, /healthz and /readyz")
	logLevel := fs.String("log-level", cfg.LogLevel, "debug, info, warn or error")
	catalogURL := fs.String("catalog", cfg.Catalog, "etcd://host:port/prefix for a shared catalog (default: Pebble under the data dir)")
	caCert := fs.String("cacert", "", "PEM file of the CA that signs every node's and client's certificate (mTLS; required with a non-loopback --listen)")
	cert := fs.String("cert", "", "PEM file of this node's certificate, signed by --cacert (mTLS)")
	key := fs.String("key", "", "PEM file of the private key of --cert (mTLS)")
	generation := fs.Uint64("deploy-generation", cfg.DeployGeneration, "deployment generation; a newer one fences older nodes out of the catalog")
	// Shared storage and zero-downtime deploys.
	storageURL := fs.String("storage", cfg.Storage, "etcd://host:port/prefix for table shards shared by successive deploy generations (default: Pebble under the data dir)")
	readOnly := fs.Bool("read-only", cfg.ReadOnly, "boot read-only and wait for POST /promote (needs a shared --catalog and --storage)")
	// Cluster mode flags.
	applyClusterFlags := clusterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: unexpected arguments %q", ErrBadConfig, fs.Args())
	}
	if *configPath != "" {
		if err := loadConfigFile(*configPath, &cfg); err != nil {
			return cfg, err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	override := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	override("data-dir", &cfg.DataDir, *dataDir)
	override("listen", &cfg.Listen, *listen)
	override("advertise", &cfg.Advertise, *advertise)
	override("http", &cfg.HTTP, *httpAddr)
	override("log-level", &cfg.LogLevel, *logLevel)
	override("catalog", &cfg.Catalog, *catalogURL)
	override("cacert", &cfg.CACert, *caCert)
	override("cert", &cfg.Cert, *cert)
	override("key", &cfg.Key, *key)
	if set["deploy-generation"] {
		cfg.DeployGeneration = *generation
	}
	override("storage", &cfg.Storage, *storageURL)
	if set["read-only"] {
		cfg.ReadOnly = *readOnly
	}
	// Cluster mode flags.
	applyClusterFlags(set, &cfg.ClusterConfig)
	return cfg, cfg.Validate()
}

func loadConfigFile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: read config file: %v", ErrBadConfig, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("%w: config file %s: %v", ErrBadConfig, path, err)
	}
	return nil
}

// Validate checks what can be checked without touching the machine.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("%w: data-dir is empty", ErrBadConfig)
	}
	if c.Listen == "" || c.HTTP == "" {
		return fmt.Errorf("%w: listen and http addresses are required", ErrBadConfig)
	}
	if err := c.Files.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if err := mtls.CheckListen(c.Listen, c.Files); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if _, err := c.SlogLevel(); err != nil {
		return err
	}
	if _, err := parseCatalogSpec(c.Catalog); err != nil {
		return err
	}
	if err := c.validateDeploy(); err != nil {
		return err
	}
	// Cluster mode.
	if err := c.ClusterConfig.validate(); err != nil {
		return err
	}
	return nil
}

// SlogLevel parses LogLevel.
func (c Config) SlogLevel() (slog.Level, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("%w: log-level %q (want debug, info, warn or error)", ErrBadConfig, c.LogLevel)
	}
	return lv, nil
}
