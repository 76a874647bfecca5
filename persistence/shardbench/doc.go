// Package shardbench measures persistence backends for benchmarks: a latency
// Recorder that reports percentiles through testing.B, and
// CompareAndAppend, the raw append benchmark every backend runs. The catalog
// benchmarks reuse both, so catalog commits and raw appends are measured the
// same way in the same run.
package shardbench
