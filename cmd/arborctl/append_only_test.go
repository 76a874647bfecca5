//go:build !race

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/actors/environment/environmenttest"
	"github.com/arbor-db/arbor/testkit"
)

// create table --append-only makes a table that get tables marks
// append-only (in both outputs) and that refuses delete and update.
func TestArborctlAppendOnly(t *testing.T) {
	sys, _ := testkit.NewRemoteSystem(t)
	environmenttest.Start(t, sys, t.TempDir(), environmenttest.Options{CompactionWindow: 1 << 20})
	c := cli{t: t, addr: sys.Address()}

	out := c.ok("", "create", "table", "events", "--columns", "id int64 not null, kind string", "--key", "id", "--append-only")
	if !strings.Contains(out, "table (append-only)") {
		t.Fatalf("create table printed %q", out)
	}
	c.ok("", "create", "table", "plain", "--columns", "id int64")
	if out := c.ok("[1, \"click\"]\n[2, \"view\"]\n", "insert", "events", "--rows", "-"); !strings.Contains(out, "inserted 2 rows") {
		t.Fatalf("insert printed %q", out)
	}
	c.failsWith("[1, \"click\"]\n", 1, "append-only", "delete", "events", "--rows", "-")
	c.failsWith("[2, \"scroll\"]\n", 1, "append-only", "update", "events", "--rows", "-")

	var objs []struct {
		Name       string `json:"name"`
		AppendOnly bool   `json:"append_only"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "-o", "json", "get", "tables")), &objs); err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Name != "events" || !objs[0].AppendOnly || objs[1].AppendOnly {
		t.Fatalf("get tables: %+v", objs)
	}
	if out := c.ok("", "peek", "events"); !strings.Contains(out, "(2 rows as of") {
		t.Fatalf("peek after refused writes: %q", out)
	}
}
