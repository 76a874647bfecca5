package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/mtls"
)

const usage = `arborctl: the command-line client of an Arbor node

Usage: arborctl [--addr host:port[,host:port...]] [-o table|json] [--timeout d]
                [--cacert FILE --cert FILE --key FILE] <command> [arguments] [flags]

With several --addr addresses the client uses the first environment that
serves and follows a failover to another (reads are retried, writes and DDL
are not: they fail with the outcome unknown).

A node that listens off loopback requires mutual TLS: --cacert is the CA
that signs every node's and client's certificate, --cert and --key are
arborctl's certificate and key (cmd/arbor-certs makes them). They may
follow the command, except --key after create table and create index,
whose --key names key columns: put the TLS flags before those commands.

Commands:
  create table NAME --columns 'id int64 not null, customer string' [--key id] [--if-not-exists] [--append-only]
  create view NAME --plan plan.json
  create index NAME --on VIEW [--key col,...] [--cluster default]
  create materialized-view NAME --plan plan.json [--cluster default]
  create cluster NAME [--replicas r1,r2]
  create replica CLUSTER NAME [--size S]
  insert TABLE --rows FILE      one JSON array per line; '-' reads stdin
  delete TABLE --rows FILE      removes one copy of each row
  update TABLE --rows FILE      replaces the rows holding each row's key
  peek NAME [--where col=value]... [--columns a,b] [--order-by col[:desc]]... [--limit N] [--offset N] [--as-of T]
  subscribe NAME [--as-of T] [--max-updates N] [--window N]
                                one line per change: TIME DIFF ROW, then TIME progress
  get tables|views|indexes|materialized-views|clusters|replicas|all
  get nodes                     the cluster's nodes and which runs each replica (JSON)
  drop table|view|index|materialized-view|cluster|replica NAME [--if-exists]
  dump
  promote [--http host:port] [--status]
                                promote a node booted --read-only (zero-downtime
                                deploy); --status: is it ready to promote?

A plan (--plan) is the protojson of a ClientPlan: {"plan": {...}, "sources":
{"1": "orders"}}, whose Get nodes name transient ids bound to catalog names.
Views, indexes, materialized views, clusters, replicas and subscribe need a
node whose environment runs compute; others answer them UNAVAILABLE.
`

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// globals are the flags every command takes.
type globals struct {
	addr    string
	output  string
	timeout time.Duration
	tls     mtls.Files // --cacert, --cert, --key; zero: plain transport
}

// register adds the global flags to fs, with their current values as
// defaults, so they may also follow the command. A flag the command
// defines itself wins: create table and create index have their own --key
// (key columns), so arborctl's TLS --key goes before such a command.
func (g *globals) register(fs *flag.FlagSet) {
	all := flag.NewFlagSet("globals", flag.ContinueOnError)
	all.StringVar(&g.addr, "addr", g.addr, "the node's address, or several separated by commas (failover)")
	all.StringVar(&g.output, "o", g.output, "output format: table or json")
	all.DurationVar(&g.timeout, "timeout", g.timeout, "how long to wait for the node")
	g.tls.RegisterFlags(all)
	all.VisitAll(func(f *flag.Flag) {
		if fs.Lookup(f.Name) == nil {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
}

// env is what a command runs with.
type env struct {
	ctx    context.Context
	g      *globals
	stdin  io.Reader
	stdout io.Writer
	c      *client.Client
}

// run runs one arborctl invocation and returns its exit code: 0, 1 for an
// error from the node, 2 for a usage error. Errors are one line on stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{addr: "127.0.0.1:6880", output: "table", timeout: 30 * time.Second}
	fs := flag.NewFlagSet("arborctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "arborctl: %v\n", err)
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(rest) == 0 {
			return 2
		}
		return 0
	}
	err := dispatch(ctx, g, rest, stdin, stdout)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "arborctl: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// command is one subcommand: its flags and what it does with its
// positional arguments.
type command struct {
	args  int // positional arguments after the verb (and noun)
	flags func(fs *flag.FlagSet) func(e *env, pos []string) error
}

func dispatch(ctx context.Context, g *globals, args []string, stdin io.Reader, stdout io.Writer) error {
	name := args[0]
	args = args[1:]
	if name == "create" || name == "drop" || name == "get" {
		if len(args) == 0 {
			return usagef("%s needs an object type (see arborctl help)", name)
		}
		name += " " + args[0]
		args = args[1:]
	}
	// Zero-downtime deploys: promote talks to a node's HTTP endpoint,
	// not to an environment (promote.go).
	if name == "promote" {
		return runPromote(ctx, g, args, stdout)
	}
	cmd, ok := commands[name]
	if !ok {
		return usagef("unknown command %q (see arborctl help)", name)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	do := cmd.flags(fs)
	g.register(fs)
	// Positional arguments come first, flags after them (or before).
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return usagef("%s: %v", name, err)
		}
		args = fs.Args()
		if len(args) > 0 {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
	if len(pos) != cmd.args {
		return usagef("%s takes %d argument(s), got %d: %q", name, cmd.args, len(pos), pos)
	}
	if g.output != "table" && g.output != "json" {
		return usagef("-o must be table or json, not %q", g.output)
	}
	if err := g.tls.Validate(); err != nil {
		return usagef("%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	addrs := splitList(g.addr)
	if len(addrs) == 0 {
		return usagef("--addr is empty")
	}
	c, err := client.Dial(ctx, addrs[0], client.WithApplicationName("arborctl"), client.WithAddresses(addrs[1:]...),
		client.WithTLS(g.tls))
	if err != nil {
		return err
	}
	defer c.Close()
	return do(&env{ctx: ctx, g: g, stdin: stdin, stdout: stdout, c: c}, pos)
}
