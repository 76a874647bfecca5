// Package node holds the root guardian of an Arbor node: the one actor under
// which every subsystem of the process (catalog guardian, storage, query
// tracker, replica runtimes) is spawned.
//
// Messages (local only; they never cross nodes, so they are Go structs):
//
//   - SpawnSubsystem{Name, Props} → SubsystemSpawned{PID} or SpawnFailed{Err}.
//     Names are unique; spawning a name twice fails.
//   - ListSubsystems → SubsystemList{Names} (sorted).
//
// Supervision: the guardian restarts a failing subsystem (one for one) at most
// Policy.MaxRestarts times within Policy.Within; past that the subsystem is
// stopped and reported through Config.OnSubsystemStopped, so a subsystem that
// keeps failing is reported, never restarted in a hot loop. A subsystem that
// stops for any reason is removed from the list. Stopping the guardian stops
// every subsystem first (protoactor stops children before their parent).
package node
