package node

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/surface"
	"github.com/arbor-db/arbor/messages"
)

// The node's environment: the front door client programs talk to, spawned
// last as the "environment" subsystem (environment.Path on the node's
// remote address). It bootstraps from the catalog before it serves; until
// then /readyz names it as not answering.

// environmentRemoteTypes are what client programs (other processes) may
// send the environment: the client protocol.
var environmentRemoteTypes = []proto.Message{
	&messages.ClientConnect{}, &messages.ClientDisconnect{}, &messages.ClientSetStatementTimeout{},
	&messages.ClientCancel{}, &messages.ClientCreateTable{}, &messages.ClientDrop{},
	&messages.ClientListObjects{}, &messages.ClientWrite{}, &messages.ClientPeek{}, &messages.ClientDump{},
	&messages.ClientCreateCluster{}, &messages.ClientCreateReplica{}, &messages.ClientCreateView{},
	&messages.ClientCreateIndex{}, &messages.ClientCreateMaterializedView{}, &messages.ClientSubscribe{},
	&messages.ClusterGetNodes{},
}

// startEnvironment spawns the environment.
func (n *Node) startEnvironment() error {
	props, err := environment.New(environment.Config{
		Catalog: n.catalog.pid, Storage: n.storage.pid, Tracker: n.trackerHandle, Effects: n.envEffects,
		Launcher: n.launcherFor, Membership: n.membershipPID(),
		ReadOnly: n.cfg.ReadOnly, // awaiting promotion (deploy.go)
		Clock:    n.clock, Registerer: n.metrics.registry, Logger: n.logger,
	})
	if err != nil {
		return fmt.Errorf("environment: %w", err)
	}
	allow, err := surface.AllowRemote(surface.AllowConfig{
		Actor: SubsystemEnvironment, Types: environmentRemoteTypes,
		Logger: n.logger.With("actor", SubsystemEnvironment), Registerer: n.metrics.registry,
	})
	if err != nil {
		return err
	}
	n.env, err = n.spawnSubsystem(SubsystemEnvironment, props.Configure(actor.WithReceiverMiddleware(allow)))
	return err
}

// environmentProbe asks the environment to list objects for no session: a
// ready environment answers at once (with an error naming the missing
// session), a bootstrapping one holds the request, which the monitor then
// reports as unanswered.
func environmentProbe(pid *actor.PID) probeTarget {
	return probeTarget{name: SubsystemEnvironment, pid: pid, request: &messages.ClientListObjects{}, judge: judgeEnvironment}
}

func judgeEnvironment(answer any) (bool, string, bool) {
	r, ok := answer.(*messages.ClientListObjectsResponse)
	if !ok {
		return false, "", false
	}
	if e := r.GetError(); e.GetCode() == messages.ErrorCode_ERROR_CODE_UNAVAILABLE {
		return false, e.GetMessage(), true
	}
	return true, "", true
}
