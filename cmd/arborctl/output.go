package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/arbor-db/arbor/client"
)

func (e *env) json(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (e *env) printObjects(objs []client.Object, one bool) error {
	if e.g.output == "json" {
		if one && len(objs) == 1 {
			return e.json(objs[0])
		}
		if objs == nil {
			objs = []client.Object{}
		}
		return e.json(objs)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tCLUSTER\tCOLUMNS\tKEY")
	for _, o := range objs {
		var cols []string
		for _, c := range o.Columns {
			s := c.Name + " " + string(c.Type)
			if !c.Nullable {
				s += " not null"
			}
			cols = append(cols, s)
		}
		typ := o.TypeName
		if o.AppendOnly {
			typ += " (append-only)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Name, typ, o.Cluster, strings.Join(cols, ", "), strings.Join(o.KeyColumns, ","))
	}
	return tw.Flush()
}

func (e *env) printWrite(n int, ts uint64, verb string) error {
	if e.g.output == "json" {
		return e.json(map[string]any{verb: n, "timestamp": ts})
	}
	_, err := fmt.Fprintf(e.stdout, "%s %d rows at %d\n", verb, n, ts)
	return err
}

func (e *env) printDropped(kind, name string, dropped bool) error {
	if e.g.output == "json" {
		return e.json(map[string]any{"name": name, "type": kind, "dropped": dropped})
	}
	if !dropped {
		_, err := fmt.Fprintf(e.stdout, "%s %q does not exist; nothing dropped\n", kind, name)
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "%s %q dropped\n", kind, name)
	return err
}

// jsonValue renders a datum for JSON output: bytes as base64.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case client.TimestampValue:
		return uint64(x)
	}
	return v
}

func (e *env) printResult(res *client.Result) error {
	if e.g.output == "json" {
		rows := make([][]any, len(res.Rows))
		for i, r := range res.Rows {
			rows[i] = make([]any, len(r))
			for j, v := range r {
				rows[i][j] = jsonValue(v)
			}
		}
		cols := res.Columns
		if cols == nil {
			cols = []client.Column{}
		}
		return e.json(map[string]any{"columns": cols, "rows": rows, "as_of": res.AsOf})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	var names []string
	for _, c := range res.Columns {
		names = append(names, strings.ToUpper(c.Name))
	}
	fmt.Fprintln(tw, strings.Join(names, "\t"))
	for _, r := range res.Rows {
		vals := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case nil:
				vals[i] = "null"
			case []byte:
				vals[i] = base64.StdEncoding.EncodeToString(x)
			default:
				vals[i] = fmt.Sprint(x)
			}
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "(%d rows as of %d)\n", len(res.Rows), res.AsOf)
	return err
}

// printUpdate prints one change of a subscribe: "TIME DIFF ROW", or a
// JSON object per line.
func (e *env) printUpdate(u client.Update) error {
	if e.g.output == "json" {
		b, err := json.Marshal(map[string]any{"time": u.Time, "diff": u.Diff, "row": jsonRow(u.Row)})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "%d\t%+d\t%v\n", u.Time, u.Diff, u.Row)
	return err
}

// printProgress prints a subscribe's progress: every change before upper
// has been printed.
func (e *env) printProgress(upper uint64) error {
	if e.g.output == "json" {
		_, err := fmt.Fprintf(e.stdout, "{\"progress\":%d}\n", upper)
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "%d\tprogress\n", upper)
	return err
}

// jsonRow renders a row for JSON output.
func jsonRow(r client.Row) []any {
	out := make([]any, len(r))
	for i, v := range r {
		out[i] = jsonValue(v)
	}
	return out
}
