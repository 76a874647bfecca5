// Package mem is the in-memory persistence backend, for tests. It keeps every
// shard of a Store in one sorted map guarded by a mutex, so it is exactly as
// atomic as the durable backends and shares their implementation of the
// shard contract (persistence/internal/kvshard); nothing survives the
// process.
package mem
