package conformance

import (
	"testing"
)

// RunShardTests runs the whole suite against the backend h opens. Subtests
// run sequentially; each opens its own store.
func RunShardTests(t *testing.T, h Harness) {
	tests := []struct {
		name string
		run  func(*testing.T, Harness)
	}{
		{"FreshShard", testFreshShard},
		{"AppendAndSnapshot", testAppendAndSnapshot},
		{"UpperMismatch", testUpperMismatch},
		{"InvalidAppends", testInvalidAppends},
		{"Consolidation", testConsolidation},
		{"SnapshotEdges", testSnapshotEdges},
		{"DowngradeSince", testDowngradeSince},
		{"SinceAheadOfUpper", testSinceAheadOfUpper},
		{"ListenOrderAndProgress", testListenOrderAndProgress},
		{"ListenFromThePast", testListenFromThePast},
		{"ListenSinceErrors", testListenSinceErrors},
		{"ListenBlocksAndCloses", testListenBlocksAndCloses},
		{"ListenAheadOfUpper", testListenAheadOfUpper},
		{"ReadRange", testReadRange},
		{"LegacyLayout", testLegacyLayout},
		{"KVLimit", testKVLimit},
		{"ConcurrentCompareAndAppend", testConcurrentCompareAndAppend},
		{"Linearizability", testLinearizability},
		{"ClosedUpper", testClosedUpper},
		{"HandlesAndNames", testHandlesAndNames},
		{"ClosedHandles", testClosedHandles},
		{"Corruption", testCorruption},
		{"CorruptIndex", testCorruptIndex},
		{"RandomAgainstModel", testRandomAgainstModel},
		{"ReopenDurability", testReopenDurability},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, h) })
	}
}
