//go:build !race

package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/mtls"
	"github.com/arbor-db/arbor/testkit"
)

// BenchmarkPeekOverMutualTLS measures a client peek to a node whose remote
// is mutual TLS, interleaved with its baseline: the same peek to a node on
// plain loopback, in the same process. It also reports Dial (a new session,
// with its TLS handshakes both ways) beside a plain Dial, every 100th
// iteration.
func BenchmarkPeekOverMutualTLS(b *testing.B) {
	files, err := mtls.Generate(mtls.GenerateConfig{Dir: b.TempDir(), Names: []string{"node", "client"}, Now: time.Now(), ValidFor: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	nodeCreds, err := mtls.NewCredentials(mtls.CredentialsConfig{Files: files["node"], Logger: testkit.QuietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	// Both systems first: each checks at its end for goroutines started
	// since it was made, so both nodes must stop before either check.
	tlsSys := testkit.NewSystem(b)
	plainSys, _ := testkit.NewRemoteSystem(b)
	testkit.StartRemote(b, tlsSys, testkit.RemoteConfig(nodeCreds.RemoteOptions()...))
	environmenttest.Start(b, tlsSys, b.TempDir(), environmenttest.Options{})
	environmenttest.Start(b, plainSys, b.TempDir(), environmenttest.Options{})

	ctx := context.Background()
	dial := func(addr string, opts ...client.Option) *client.Client {
		c, err := client.Dial(ctx, addr, opts...)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	withTLS := client.WithTLS(files["client"])
	clients := map[string]*client.Client{"tls": dial(tlsSys.Address(), withTLS), "plain": dial(plainSys.Address())}
	b.Cleanup(func() {
		for _, c := range clients {
			_ = c.Close()
		}
	})
	for _, c := range clients {
		if _, err := c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: ordersColumns}); err != nil {
			b.Fatal(err)
		}
		var rows []client.Row
		for i := range 100 {
			rows = append(rows, orderRow(int64(i), "c", int64(i)))
		}
		if _, err := c.Insert(ctx, "orders", rows...); err != nil {
			b.Fatal(err)
		}
	}
	peek := map[string][]time.Duration{}
	dials := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, kind := range []string{"tls", "plain"} {
			start := time.Now()
			res, err := clients[kind].Peek(ctx, "orders", client.Where("id", int64(i%100)))
			if err != nil || len(res.Rows) != 1 {
				b.Fatalf("%s peek: %v %v", kind, res, err)
			}
			peek[kind] = append(peek[kind], time.Since(start))
		}
		if i%100 == 0 {
			for kind, addr := range map[string]string{"tls": tlsSys.Address(), "plain": plainSys.Address()} {
				var opts []client.Option
				if kind == "tls" {
					opts = append(opts, withTLS)
				}
				start := time.Now()
				c := dial(addr, opts...)
				dials[kind] = append(dials[kind], time.Since(start))
				_ = c.Close()
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(quantile(peek["tls"], 0.5), "tls-peek-p50-µs")
	b.ReportMetric(quantile(peek["plain"], 0.5), "plain-peek-p50-µs")
	b.ReportMetric(quantile(peek["tls"], 0.99), "tls-peek-p99-µs")
	b.ReportMetric(quantile(peek["plain"], 0.99), "plain-peek-p99-µs")
	b.ReportMetric(quantile(dials["tls"], 0.5)/1000, "tls-dial-p50-ms")
	b.ReportMetric(quantile(dials["plain"], 0.5)/1000, "plain-dial-p50-ms")
}
