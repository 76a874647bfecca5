// Command node runs one Arbor node: an actor system with protoactor remote,
// the root node guardian, and HTTP endpoints for /metrics, /healthz and
// /readyz. It stops cleanly (exit 0) on SIGINT or SIGTERM.
//
//	node --data-dir ./data --listen 127.0.0.1:6880 --http 127.0.0.1:6881
//
// Every flag can also be set in a JSON file given with --config, using the
// flag names as keys; flags on the command line win.
//
// The node itself (start order, subsystems, readiness, bounded stop) is
// package node (the top-level node/ directory), so tests and embedders start
// one in process; this command only parses flags, starts it and waits for a
// signal or a halt.
//
// Cluster mode: with --join host:port,... (every node's membership
// endpoint) or --cluster-provider etcd://host:port/prefix the node joins a
// cluster; --node-name names it, --roles environment,compute says what it
// runs (a compute-only node runs only replicas placed on it),
// --membership-listen is its own membership endpoint and --member-timeout
// how long a silent member stays up. docs/cluster.md has a three-node
// example. A node the cluster dropped exits with status 3.
//
// A node fenced out of its catalog by a newer one exits with status 3 and a
// message naming both fence tokens; a node whose catalog guardian or node
// guardian stops halts the same way, with a message saying which. SIGINT or
// SIGTERM stops it (exit 0) within node.StopTimeout even when a backend does
// not answer. With --cacert, --cert and --key the remote port is mutual TLS
// in both directions (package mtls); without them it must listen on
// loopback.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/arbor-db/arbor/clock"
	"github.com/arbor-db/arbor/node"
)

// exitHalted is the exit code of a halted node: fenced out of its catalog by
// a newer node, or left without its catalog guardian or its node guardian
// (see node.Node.Halted).
const exitHalted = 3

func main() { os.Exit(run(os.Args[1:])) }

// run is main without os.Exit, so tests can call it in a child process.
func run(args []string) int {
	cfg, err := node.ParseConfig(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "arbor node: %v\n", err)
		return 2
	}
	level, _ := cfg.SlogLevel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	n, err := node.Start(cfg, logger, clock.Real())
	if err != nil {
		fmt.Fprintf(os.Stderr, "arbor node: %v\n", err)
		return 1
	}
	select {
	case sig := <-signals:
		logger.Info("shutting down", "signal", sig.String())
		n.Stop()
		return 0
	case reason := <-n.Halted():
		n.Stop()
		fmt.Fprintf(os.Stderr, "arbor node: %s\n", reason)
		return exitHalted
	}
}
