//go:build linux

package multinode

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// socketOwner returns which of pids holds the TCP socket from localPort to
// remotePort on this host (loopback connections: both ends are here), or 0
// when none does or /proc cannot tell. It reads /proc/net/tcp{,6} for the
// socket's inode and each process's /proc/<pid>/fd for that inode.
func socketOwner(localPort, remotePort int, pids []int) int {
	inode := ""
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if inode = findInode(table, localPort, remotePort); inode != "" {
			break
		}
	}
	if inode == "" {
		return 0
	}
	want := "socket:[" + inode + "]"
	for _, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if link, err := os.Readlink(dir + "/" + e.Name()); err == nil && link == want {
				return pid
			}
		}
	}
	return 0
}

// findInode scans one /proc/net table for the socket local:remote (ports
// only; every address here is loopback) and returns its inode.
func findInode(table string, localPort, remotePort int) string {
	f, err := os.Open(table)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		if hexPort(fields[1]) == localPort && hexPort(fields[2]) == remotePort && fields[9] != "0" {
			return fields[9]
		}
	}
	return ""
}

// hexPort reads the port of a /proc/net address ("0100007F:A7EB").
func hexPort(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return -1
	}
	p, err := strconv.ParseUint(addr[i+1:], 16, 16)
	if err != nil {
		return -1
	}
	return int(p)
}
