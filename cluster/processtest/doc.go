// Package processtest runs Arbor's cluster mode as node processes on
// loopback (testkit/multinode): replicas placed on other nodes, a node
// killed, cut off by a partition or leaving, and the replicas it ran placed
// again elsewhere and hydrated, while peeks keep their answers. The tests
// are slow (tens of seconds each): `make test-cluster` runs them; they
// carry `//go:build !race` (the test's client remote, see
// testkit/multinode) and the `cluster` build tag, so `make test` skips
// them.
package processtest
