//go:build !race

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arbor-db/arbor/testkit/multinode"
)

// quickstart returns the shell commands between the quickstart markers of
// the README: every line of its sh block.
func quickstart(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	begin, end := strings.Index(s, "<!-- quickstart:begin -->"), strings.Index(s, "<!-- quickstart:end -->")
	if begin < 0 || end < begin {
		t.Fatal("README.md has no quickstart markers")
	}
	var cmds []string
	for _, line := range strings.Split(s[begin:end], "\n") {
		if line == "" || strings.HasPrefix(line, "<!--") || strings.HasPrefix(line, "```") || strings.HasPrefix(line, "#") {
			continue
		}
		cmds = append(cmds, line)
	}
	if len(cmds) == 0 {
		t.Fatal("the README's quickstart has no arborctl command")
	}
	return cmds
}

// TestReadmeQuickstart runs the README's quickstart, as written, against a
// node process, then restarts the node (SIGTERM, then SIGKILL) and checks
// the last command's answer each time.
func TestReadmeQuickstart(t *testing.T) {
	cmds := quickstart(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "bin", "arborctl"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build arborctl: %v\n%s", err, out)
	}
	c := multinode.Start(t, multinode.Config{Nodes: 1})
	node := c.Node(0)

	run := func(cmd string) string {
		t.Helper()
		line := strings.ReplaceAll(cmd, "bin/arborctl ", "bin/arborctl --addr "+node.Addr()+" ")
		cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
		defer ccancel()
		sh := exec.CommandContext(cctx, "bash", "-o", "pipefail", "-c", line)
		sh.Dir = dir
		out, err := sh.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	var last string
	for _, cmd := range cmds {
		last = run(cmd)
	}
	want := "ID  CUSTOMER  AMOUNT\n3   alice     25\n1   alice     30\n4   carol     50\n"
	if !strings.HasPrefix(last, want) {
		t.Fatalf("the quickstart's last command printed\n%s\nwant it to begin with\n%s", last, want)
	}
	for _, restart := range []string{"sigterm", "sigkill"} {
		if restart == "sigterm" {
			if code := node.Stop(); code != 0 {
				t.Fatalf("node exited %d on SIGTERM", code)
			}
		} else {
			node.Kill()
		}
		node.Start()
		if got := run(cmds[len(cmds)-1]); got != last {
			t.Fatalf("after %s the peek printed\n%s\nbefore\n%s", restart, got, last)
		}
	}
}
