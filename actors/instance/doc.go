// Package instance is the compute controller of one cluster
// (ARCHITECTURE.md §7): the Instance actor drives the cluster's replicas
// through the compute protocol (messages/compute.proto), tracks every
// collection's since and upper, holds reads so that compaction never
// removes what a reader needs, serves peeks and subscribes from whichever
// replica answers first, and keeps the command history (history.go) that
// it reduces and replays to bring a new or restarted replica up to date.
package instance
