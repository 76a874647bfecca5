// Package processtest runs Arbor's cluster mode as node processes on
// loopback (testkit/multinode): replicas placed on other nodes, a node
// killed, cut off by a partition, evicted or leaving, and the replicas it
// ran placed again elsewhere and hydrated, while peeks keep their answers.
// The tests take tens of seconds each, so they carry the `cluster` build
// tag: `make test-cluster` runs them (and `.ci/run`), `make test` does
// not. The benchmarks (peek latency with the replica on another node, time
// from node loss to hydrated again) carry only `!race`, so `make bench`
// runs them. Everything here is `!race`: the test's client remote, see
// testkit/multinode.
package processtest
