// Command arborctl is the command-line client of an Arbor node: it creates
// and drops tables, writes rows and peeks, in the style of kubectl and
// etcdctl. Run `arborctl help` for the commands; docs/client.md has the
// full reference.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
