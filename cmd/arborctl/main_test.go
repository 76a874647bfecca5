package main

import (
	"testing"

	"github.com/arbor-db/arbor/testkit/multinode"
)

// TestMain checks for leaked goroutines (and removes the node binary the
// quickstart test builds).
func TestMain(m *testing.M) { multinode.RunTests(m) }
