//go:build linux

package multinode

import (
	"net"
	"os"
	"testing"
)

func TestSocketOwnerFindsTheDialingProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer accepted.Close()
	from := c.LocalAddr().(*net.TCPAddr).Port
	to := ln.Addr().(*net.TCPAddr).Port
	if got := socketOwner(from, to, []int{1, os.Getpid()}); got != os.Getpid() {
		t.Fatalf("owner of the dialing socket: %d, want this process %d", got, os.Getpid())
	}
	if got := socketOwner(from, to, []int{1}); got != 0 {
		t.Fatalf("owner among other processes: %d", got)
	}
	if got := socketOwner(to, 1, []int{os.Getpid()}); got != 0 {
		t.Fatalf("owner of a socket that does not exist: %d", got)
	}
}
