// Package shardbench measures persistence backends for benchmarks: a latency
// Recorder that reports percentiles through testing.B; CompareAndAppend, the
// raw append benchmark every backend runs; and ReadRangeAfterHistory, the
// cost of a read against the length of a shard's history, beside the same
// read on a fresh shard. The catalog benchmarks reuse the first two, so
// catalog commits and raw appends are measured the same way in the same run.
package shardbench
