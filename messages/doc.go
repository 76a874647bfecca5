// Package messages holds Arbor's wire types: every message that crosses
// protoactor remote is a protobuf message defined in a .proto file here, and
// the generated Go code is committed (run `make generate` after editing a
// .proto file).
//
// The files are compiled from the repository root, so each is registered
// under its path ("messages/common.proto") and imports its siblings by that
// path. common.proto holds the shared building blocks (Timestamp, Frontier,
// GlobalId, ReplicaId, ClusterId, ConnectionId, Uuid, Datum, Row).
//
// convert.go turns the shared types into Arbor's Go vocabulary (package
// timely) and back. Decoding a message that came off the wire can fail: a
// frontier with two elements, an id without a kind, a uuid missing. Those
// errors wrap ErrMalformed and name the field, so a receiver can reject the
// message without guessing. Datum and Row are converted by package dataflow,
// which owns Arbor's row type.
package messages
