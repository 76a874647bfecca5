package multinode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arbor-db/arbor/testkit"
)

// NodePackage is the package of the node binary the testkit runs.
const NodePackage = "github.com/arbor-db/arbor/cmd/node"

// BinaryEnv names an environment variable that, when set, is the path of a
// node binary to use instead of building one (e.g. bin/node from make build).
const BinaryEnv = "ARBOR_NODE_BINARY"

// buildTimeout bounds the one go build of a test run.
const buildTimeout = 5 * time.Minute

// The node binary is built once per test process, into buildDir.
var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// Binary returns the path of the node binary: $ARBOR_NODE_BINARY when set,
// otherwise the node built with go build on first use in this test process
// (into a temporary directory RunTests removes). A failed build fails the
// test with the compiler's output.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(BinaryEnv); p != "" {
		return p
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "arbor-multinode-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "node")
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", buildPath, NodePackage).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("multinode: go build %s: %v\n%s", NodePackage, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// RunTests is the TestMain of a package of multi-node tests: it runs the
// tests, removes the node binary built for them, checks that no goroutine
// outlived them (goleak, with testkit.LeakOptions) and exits.
//
//	func TestMain(m *testing.M) { multinode.RunTests(m) }
func RunTests(m *testing.M) {
	goleak.VerifyTestMain(removingBuild{m}, testkit.LeakOptions()...)
}

type removingBuild struct{ m *testing.M }

func (r removingBuild) Run() int {
	defer func() {
		if buildDir != "" {
			_ = os.RemoveAll(buildDir)
		}
	}()
	return r.m.Run()
}
