package etcd

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
)

// MaxTxnBytes is the default limit on the encoded size of one append,
// safely under etcd's default 1.5 MiB request limit.
const MaxTxnBytes = 1 << 20

// New returns a Store keeping its shards under prefix in the cluster client
// talks to. The caller keeps ownership of client: closing the Store does not
// close it. A prefix not ending in "/" gets one.
func New(client *clientv3.Client, prefix string) persistence.Store {
	return kvshard.NewStore(&kv{client: client}, normalize(prefix), kvshard.WithMaxTxnBytes(MaxTxnBytes))
}

// Dial connects to the etcd endpoints and returns a Store under prefix that
// owns its client: closing the Store closes the connection.
func Dial(ctx context.Context, endpoints []string, prefix string) (persistence.Store, error) {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Context:     context.WithoutCancel(ctx),
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("dial etcd %v: %w", endpoints, err)
	}
	// clientv3.New does not wait for a connection; fail fast here instead of
	// at the first append.
	if _, err := client.Get(ctx, "health"); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("dial etcd %v: %w", endpoints, err)
	}
	return kvshard.NewStore(&kv{client: client, owned: true}, normalize(prefix), kvshard.WithMaxTxnBytes(MaxTxnBytes)), nil
}

func normalize(prefix string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix
}
