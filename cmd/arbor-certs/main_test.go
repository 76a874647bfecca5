package main

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.LeakOptions()...) }

func TestWritesTheCAAndOneCertificatePerName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if code := run([]string{"--dir", dir, "--hosts", "127.0.0.1,node1.internal", "node1", "client"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"ca.pem", "ca-key.pem", "node1.pem", "node1-key.pem", "client.pem", "client-key.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestRefusesNoNames(t *testing.T) {
	if code := run([]string{"--dir", t.TempDir()}); code != 2 {
		t.Fatalf("exit %d without names", code)
	}
}
