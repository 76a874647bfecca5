// Package timely holds Arbor's vocabulary of time: timestamps, frontiers and
// mutable frontiers.
//
// A Timestamp is a uint64 count of milliseconds handed out by the timestamp
// oracle. Times form a total order, so an antichain of times (a Frontier) is
// either a single time t, meaning "every update still to come has a time >= t",
// or empty, meaning "closed: no update will ever come".
//
// A collection carries two frontiers:
//
//   - since: the read frontier. Reads at t >= since are exact; history older
//     than since may have been compacted into since.
//   - upper: the write frontier. Data is complete for every t < upper.
//
// A read at t is answerable when since <= t < upper (see Answerable).
//
// MutableFrontier is a multiset of times with counts, the structure that
// tracks outstanding capabilities or read holds. Its frontier is the least time
// whose count is positive. An update that would drive a count below zero is
// rejected with ErrNegativeCount and leaves the multiset unchanged.
package timely
