package instance

import "testing"

// TestReplicaTransitions lists every (status, event) pair: the drawn paths
// succeed, every other one is refused.
func TestReplicaTransitions(t *testing.T) {
	allowed := map[[2]int]ReplicaStatus{
		{int(replicaNew), int(evConnect)}:    ReplicaActive,
		{int(ReplicaFailed), int(evConnect)}: ReplicaActive,
		{int(ReplicaActive), int(evFail)}:    ReplicaFailed,
		{int(ReplicaActive), int(evGiveUp)}:  ReplicaFailing,
	}
	for _, s := range []ReplicaStatus{replicaNew, ReplicaActive, ReplicaFailed, ReplicaFailing} {
		for _, ev := range []replicaEvent{evConnect, evFail, evGiveUp} {
			got, err := transition(s, ev)
			want, ok := allowed[[2]int{int(s), int(ev)}]
			switch {
			case ok && (err != nil || got != want):
				t.Errorf("%s --%s--> %s, %v; want %s", s, ev, got, err, want)
			case !ok && err == nil:
				t.Errorf("%s --%s--> %s allowed; want refused", s, ev, got)
			}
		}
	}
}
