package client_test

import (
	"testing"

	"github.com/arbor-db/arbor/testkit/multinode"
)

// TestMain checks for leaked goroutines and removes the node binary the
// node-process tests build.
func TestMain(m *testing.M) { multinode.RunTests(m) }
