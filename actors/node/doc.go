// Package node holds the root guardian of an Arbor node: the one actor under
// which every subsystem of the process (catalog guardian, storage, query
// tracker, replica runtimes) is spawned.
//
// Messages (local only; they never cross nodes, so they are Go structs):
//
//   - SpawnSubsystem{Name, Props} → SubsystemSpawned{PID} or SpawnFailed{Err}.
//     Names are unique; spawning a name twice fails.
//   - StopSubsystem{Name} → SubsystemStopped{Name} once it has terminated
//     (at once for an unknown name). A subsystem stopped this way is not
//     reported through OnSubsystemStopped.
//   - ListSubsystems → SubsystemList{Names} (sorted).
//
// Since every message is a local Go struct, the guardian accepts nothing from
// remote senders (surface.AllowRemote with no types): a message from another
// process is dropped, counted in arbor_remote_messages_dropped_total and, if
// it has a sender, answered with messages.UnknownMessageReply. A local
// message it does not know is handled by surface.Unhandled (counted, logged
// once per type, answered with the same reply). System messages a peer sends
// (Stop, PoisonPill) never reach it: the node's remote guard drops them.
//
// Supervision: the guardian restarts a failing subsystem (one for one) at most
// Policy.MaxRestarts times within Policy.Within; past that the subsystem is
// stopped and reported through Config.OnSubsystemStopped, so a subsystem that
// keeps failing is reported, never restarted in a hot loop. A subsystem that
// stops for any reason is removed from the list. Stopping the guardian stops
// every subsystem first (protoactor stops children before their parent).
package node
