package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/arbor-db/arbor/client"
	"github.com/arbor-db/arbor/messages"
)

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"create table":             {1, createTable},
		"create view":              {1, createView},
		"create index":             {1, createIndex},
		"create materialized-view": {1, createMaterializedView},
		"create cluster":           {1, createCluster},
		"create replica":           {2, createReplica},
		"insert":                   {1, writeRows("inserted")},
		"delete":                   {1, writeRows("deleted")},
		"update":                   {1, writeRows("updated")},
		"peek":                     {1, peek},
		"subscribe":                {1, subscribe},
		"dump":                     {0, dump},
		"get tables":               {0, get(client.Table)},
		"get views":                {0, get(client.View)},
		"get indexes":              {0, get(client.Index)},
		"get materialized-views":   {0, get(client.MaterializedView)},
		"get clusters":             {0, get(client.Cluster)},
		"get replicas":             {0, get(client.Replica)},
		"get all":                  {0, get(client.AnyObject)},
		"get nodes":                {0, getNodes},
		"drop table":               {1, drop(client.Table)},
		"drop view":                {1, drop(client.View)},
		"drop index":               {1, drop(client.Index)},
		"drop materialized-view":   {1, drop(client.MaterializedView)},
		"drop cluster":             {1, drop(client.Cluster)},
		"drop replica":             {1, drop(client.Replica)},
	}
}

func createTable(fs *flag.FlagSet) func(*env, []string) error {
	columns := fs.String("columns", "", "the columns: 'name type [not null], ...'")
	key := fs.String("key", "", "the key columns, comma separated")
	ifNotExists := fs.Bool("if-not-exists", false, "an existing table of that name is not an error")
	appendOnly := fs.Bool("append-only", false, "the table only takes inserts (deletes and updates are refused)")
	return func(e *env, pos []string) error {
		if *columns == "" {
			return usagef("create table needs --columns")
		}
		cols, err := client.ParseColumns(*columns)
		if err != nil {
			return usagef("create table: --columns: %v", err)
		}
		o, err := e.c.CreateTable(e.ctx, client.TableSpec{Name: pos[0], Columns: cols, Key: splitList(*key), IfNotExists: *ifNotExists,
			AppendOnly: *appendOnly})
		if err != nil {
			return err
		}
		return e.printObjects([]client.Object{o}, true)
	}
}

func readPlan(path string) (*client.Plan, error) {
	if path == "" {
		return nil, usagef("--plan is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var w messages.ClientPlan
	if err := protojson.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return &client.Plan{Plan: w.GetPlan(), Sources: w.GetSources()}, nil
}

func createView(fs *flag.FlagSet) func(*env, []string) error {
	plan := fs.String("plan", "", "the view's plan (protojson of a ClientPlan)")
	return func(e *env, pos []string) error {
		p, err := readPlan(*plan)
		if err != nil {
			return err
		}
		o, err := e.c.CreateView(e.ctx, pos[0], p)
		if err != nil {
			return err
		}
		return e.printObjects([]client.Object{o}, true)
	}
}

func createIndex(fs *flag.FlagSet) func(*env, []string) error {
	on := fs.String("on", "", "the view or table to index")
	key := fs.String("key", "", "the key columns, comma separated")
	cluster := fs.String("cluster", "", "the cluster (default: the default cluster)")
	return func(e *env, pos []string) error {
		if *on == "" {
			return usagef("create index needs --on")
		}
		o, err := e.c.CreateIndex(e.ctx, pos[0], *on, splitList(*key), *cluster)
		if err != nil {
			return err
		}
		return e.printObjects([]client.Object{o}, true)
	}
}

func createMaterializedView(fs *flag.FlagSet) func(*env, []string) error {
	plan := fs.String("plan", "", "the plan (protojson of a ClientPlan)")
	cluster := fs.String("cluster", "", "the cluster")
	return func(e *env, pos []string) error {
		p, err := readPlan(*plan)
		if err != nil {
			return err
		}
		o, err := e.c.CreateMaterializedView(e.ctx, pos[0], p, *cluster)
		if err != nil {
			return err
		}
		return e.printObjects([]client.Object{o}, true)
	}
}

func createCluster(fs *flag.FlagSet) func(*env, []string) error {
	replicas := fs.String("replicas", "", "replica names, comma separated")
	return func(e *env, pos []string) error {
		o, err := e.c.CreateCluster(e.ctx, pos[0], splitList(*replicas)...)
		if err != nil {
			return err
		}
		return e.printObjects([]client.Object{o}, true)
	}
}

// writeRows is insert, delete or update (by key), as verb says.
func writeRows(verb string) func(*flag.FlagSet) func(*env, []string) error {
	return func(fs *flag.FlagSet) func(*env, []string) error {
		rows := fs.String("rows", "", "a file of rows, one JSON array per line; '-' for stdin")
		return func(e *env, pos []string) error {
			if *rows == "" {
				return usagef("--rows is required")
			}
			var r io.Reader = e.stdin
			if *rows != "-" {
				f, err := os.Open(*rows)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			t, err := e.table(pos[0])
			if err != nil {
				return err
			}
			parsed, err := parseRows(r, t.Columns)
			if err != nil {
				return fmt.Errorf("%s: %w", *rows, err)
			}
			w := client.TableWrite{Table: pos[0]}
			switch verb {
			case "deleted":
				w.Deletes = parsed
			case "updated":
				w.Updates = parsed
			default:
				w.Inserts = parsed
			}
			ts, err := e.c.Write(e.ctx, w)
			if err != nil {
				return err
			}
			return e.printWrite(len(parsed), ts, verb)
		}
	}
}

func peek(fs *flag.FlagSet) func(*env, []string) error {
	var where, orderBy listFlag
	fs.Var(&where, "where", "keep rows where col=value (repeatable)")
	fs.Var(&orderBy, "order-by", "order by col or col:desc (repeatable)")
	columns := fs.String("columns", "", "the columns to show, comma separated")
	limit := fs.Int64("limit", -1, "at most this many rows")
	offset := fs.Uint64("offset", 0, "skip this many rows")
	asOf := fs.Int64("as-of", -1, "read at this older time")
	return func(e *env, pos []string) error {
		var opts []client.PeekOption
		if len(where) > 0 {
			t, err := e.table(pos[0])
			if err != nil {
				return err
			}
			for _, w := range where {
				col, val, ok := strings.Cut(w, "=")
				if !ok {
					return usagef("--where %q: want col=value", w)
				}
				v, err := parseValue(strings.TrimSpace(col), strings.TrimSpace(val), t.Columns)
				if err != nil {
					return usagef("--where %q: %v", w, err)
				}
				opts = append(opts, client.Where(strings.TrimSpace(col), v))
			}
		}
		if *columns != "" {
			opts = append(opts, client.Columns(splitList(*columns)...))
		}
		for _, o := range orderBy {
			col, dir, _ := strings.Cut(o, ":")
			if dir != "" && dir != "asc" && dir != "desc" {
				return usagef("--order-by %q: the direction is asc or desc", o)
			}
			opts = append(opts, client.OrderBy(col, dir == "desc"))
		}
		if *limit >= 0 {
			opts = append(opts, client.Limit(uint64(*limit)))
		}
		if *offset > 0 {
			opts = append(opts, client.Offset(*offset))
		}
		if *asOf >= 0 {
			opts = append(opts, client.AsOf(uint64(*asOf)))
		}
		res, err := e.c.Peek(e.ctx, pos[0], opts...)
		if err != nil {
			return err
		}
		return e.printResult(res)
	}
}

func subscribe(fs *flag.FlagSet) func(*env, []string) error {
	asOf := fs.Int64("as-of", -1, "start at this time (default: the latest complete time)")
	maxUpdates := fs.Int("max-updates", 0, "stop after this many updates (0: until interrupted or --timeout)")
	window := fs.Uint("window", 0, "batches the node may send ahead of this client (default 16)")
	return func(e *env, pos []string) error {
		var opts []client.SubscribeOption
		if *asOf >= 0 {
			opts = append(opts, client.SubscribeAsOf(uint64(*asOf)))
		}
		if *window > 0 {
			opts = append(opts, client.Window(uint32(*window)))
		}
		sub, err := e.c.Subscribe(e.ctx, pos[0], opts...)
		if err != nil {
			return err
		}
		defer sub.Close()
		n := 0
		for {
			b, err := sub.Next(e.ctx)
			if errors.Is(err, io.EOF) || errors.Is(err, client.ErrTimeout) || errors.Is(err, client.ErrCanceled) {
				return nil // the subscription ended, or the user stopped it
			}
			if err != nil {
				return err
			}
			for _, u := range b.Updates {
				if err := e.printUpdate(u); err != nil {
					return err
				}
				if n++; *maxUpdates > 0 && n >= *maxUpdates {
					return nil
				}
			}
			if err := e.printProgress(b.Upper); err != nil {
				return err
			}
		}
	}
}

func createReplica(fs *flag.FlagSet) func(*env, []string) error {
	size := fs.String("size", "", "the replica's size class")
	return func(e *env, pos []string) error {
		o, err := e.c.CreateReplica(e.ctx, pos[0], pos[1], *size)
		if err != nil {
			return err
		}
		return e.printObjects([]client.Object{o}, true)
	}
}

func dump(fs *flag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		b, err := e.c.Dump(e.ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
}

// getNodes prints the cluster's membership view and where each replica
// runs, as JSON (the environment's ClusterGetNodes).
func getNodes(fs *flag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		_, b, err := e.c.Nodes(e.ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
}

func get(t client.ObjectType) func(*flag.FlagSet) func(*env, []string) error {
	return func(fs *flag.FlagSet) func(*env, []string) error {
		return func(e *env, _ []string) error {
			objs, err := e.c.List(e.ctx, t)
			if err != nil {
				return err
			}
			return e.printObjects(objs, false)
		}
	}
}

func drop(t client.ObjectType) func(*flag.FlagSet) func(*env, []string) error {
	return func(fs *flag.FlagSet) func(*env, []string) error {
		ifExists := fs.Bool("if-exists", false, "a missing object is not an error")
		return func(e *env, pos []string) error {
			dropped, err := e.c.Drop(e.ctx, t, pos[0], *ifExists)
			if err != nil {
				return err
			}
			return e.printDropped(client.TypeName(t), pos[0], dropped)
		}
	}
}

// table looks up a table's (or any collection's) columns, to parse
// values by type.
func (e *env) table(name string) (client.Object, error) {
	objs, err := e.c.List(e.ctx, client.AnyObject)
	if err != nil {
		return client.Object{}, err
	}
	for _, o := range objs {
		if o.Name == name && len(o.Columns) > 0 {
			return o, nil
		}
	}
	return client.Object{}, fmt.Errorf("%q does not exist: %w", name, client.ErrNotFound)
}
