// Package conformance is the one test suite every persistence backend must
// pass. A backend's tests call RunShardTests with a Harness that opens fresh
// stores (and, for durable backends, reopens them). The suite owns no
// backend; it checks the persistence.Shard contract only through the
// interface, except for the corruption tests, which write bad bytes through
// the shared key-value layer.
package conformance
