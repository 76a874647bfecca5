//go:build !linux

package multinode

// socketOwner cannot tell without Linux's /proc: every connection's source
// is unknown, so only the proxy-wide rules (Blackhole, Delay) apply.
func socketOwner(localPort, remotePort int, pids []int) int { return 0 }
