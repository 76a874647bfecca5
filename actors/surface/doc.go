// Package surface owns what an Arbor actor accepts, and from whom
// (docs/conventions.md, sections 5 and 11).
//
//   - Unhandled is the one way an actor handles a message its Receive does
//     not know: system messages ignored, anything else counted
//     (arbor_actor_unknown_messages_total), logged once per type, and
//     answered with messages.UnknownMessageReply when it has a sender.
//   - RemoteGuard is the node's remote port: gRPC interceptors in front of
//     protoactor remote's endpoint reader. Every MessageBatch is checked
//     before protoactor indexes into it, and the remote-watch messages it
//     lets through must name their PID (a bad batch closes only its stream),
//     a panic on a stream closes only that stream, system messages from
//     peers other than remote watch are dropped, and every other envelope is
//     marked with RemoteHeader. Remote watches are capped per connection
//     and removed when it ends (watches.go); futures get nothing but
//     replies, and only while they run (futures.go).
//   - AllowRemote is a receiver middleware: an actor accepts from remote
//     senders (marked envelopes) only the protobuf types it lists.
//
// Invariants: no frame a peer sends can panic the process or stop an actor;
// every refusal is counted under a bounded label (a reason from a closed
// set, or a registered type name) and logged once per kind; a refused
// request with a sender gets a decodable error, never silence.
//
// Metrics: arbor_remote_frame_panics_total,
// arbor_remote_frames_rejected_total{reason}, arbor_remote_watches,
// arbor_remote_messages_dropped_total{type},
// arbor_actor_unknown_messages_total{actor,type}.
package surface
