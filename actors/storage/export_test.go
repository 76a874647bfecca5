package storage

// EncodeRow exposes the row codec to the benchmarks, so the raw-shard
// baseline appends the same keys the actor does.
var EncodeRow = encodeRow
