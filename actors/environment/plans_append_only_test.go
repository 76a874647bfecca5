package environment

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// appendOnlyCore adds to planCore an append-only table a (u10), a view w
// over a and t (u11), an index on w (u12), a materialized view m over a
// (u13) and an index on m (u14).
func appendOnlyCore(t *testing.T) *Core {
	c := planCore(t)
	schema := dataflow.Schema{{Name: "x", Type: dataflow.TypeInt64}}
	c.AddObject(&object{id: timely.UserId(10), name: "a", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE, schema: schema, appendOnly: true})
	add := func(id uint64, name string, typ messages.CatalogItemType, plan *messages.Plan, deps ...timely.GlobalId) {
		compiled, err := c.compilePlan(plan)
		if err != nil {
			t.Fatal(err)
		}
		c.AddObject(&object{id: timely.UserId(id), name: name, typ: typ, plan: plan, compiled: compiled, schema: compiled.Schema(),
			dependsOn: deps, cluster: timely.ClusterId{Kind: timely.User, Value: 1}})
	}
	add(11, "w", messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW, unionOf(getOf(timely.UserId(10)), getOf(timely.UserId(1))), timely.UserId(10), timely.UserId(1))
	c.AddObject(&object{id: timely.UserId(12), name: "iw", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX, on: timely.UserId(11), schema: schema, keyIdx: []uint32{0}})
	add(13, "m", messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW, getOf(timely.UserId(10)), timely.UserId(10))
	c.AddObject(&object{id: timely.UserId(14), name: "im", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX, on: timely.UserId(13), schema: schema, keyIdx: []uint32{0}})
	return c
}

// builtGets returns, per source id, the append_only flags of the Gets of
// a description's built plan (fmt prints it with its keys sorted).
func builtGets(d *messages.ComputeDataflowDescription) map[string][]bool {
	out := map[string][]bool{}
	gets(d.GetObjectsToBuild()[0].GetPlan().ProtoReflect(), func(g *messages.GetPlan) {
		id, _ := g.GetSource().ToTimely()
		out[id.String()] = append(out[id.String()], g.GetAppendOnly())
	})
	return out
}

// A dataflow reading an append-only table declares that Get append-only,
// and no other: not an ordinary table's, not a materialized view's
// collection (even over an append-only table).
func TestDescribeDeclaresAppendOnlyTables(t *testing.T) {
	c := appendOnlyCore(t)
	for _, tc := range []struct {
		name string
		of   uint64
		want string
	}{
		{"index on a view over an append-only and an ordinary table", 12, "map[u1:[false] u10:[true]]"},
		{"index on an ordinary table's view", 3, "map[u1:[false false]]"},
		{"materialized view over an append-only table", 13, "map[u10:[true]]"},
		{"index on that materialized view", 14, "map[u13:[false]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := c.byId[timely.UserId(tc.of)]
			if o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX && o.keyIdx == nil {
				o.keyIdx = []uint32{0}
			}
			d, _, err := c.describe(o, 7)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(builtGets(d)); got != tc.want {
				t.Fatalf("Gets (source: append_only) %s, want %s", got, tc.want)
			}
		})
	}
	// Lowering leaves the catalog's plans alone.
	if c.byId[timely.UserId(11)].plan.GetUnion().GetInputs()[0].GetGet().GetAppendOnly() {
		t.Fatal("lowering changed the view's own plan")
	}
}

// A plan's own append_only flag is the catalog's to decide: lowering
// clears it on an ordinary table, and binding refuses it on anything but
// an append-only table.
func TestAppendOnlyDeclarationsInPlans(t *testing.T) {
	c := appendOnlyCore(t)
	declared := func(id timely.GlobalId) *messages.Plan {
		p := getOf(id)
		p.GetGet().AppendOnly = true
		return p
	}
	lowered, _, err := c.inline(unionOf(declared(timely.UserId(1)), getOf(timely.UserId(10))))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(builtGets(&messages.ComputeDataflowDescription{ObjectsToBuild: []*messages.ComputeBuildDesc{{Plan: lowered}}})); got != "map[u1:[false] u10:[true]]" {
		t.Fatalf("lowered Gets %s", got)
	}

	p1 := timely.TransientId(1)
	if _, _, _, err := c.bindPlan("create view", &messages.ClientPlan{Plan: declared(p1), Sources: map[uint64]string{1: "a"}}); err != nil {
		t.Fatalf("declaring an append-only table append-only: %v", err)
	}
	for _, src := range []string{"t", "v", "m"} {
		_, _, _, err := c.bindPlan("create view", &messages.ClientPlan{Plan: declared(p1), Sources: map[uint64]string{1: src}})
		if !errors.Is(err, ErrAppendOnly) || !errors.Is(err, messages.ErrInvalidArgument) || !strings.Contains(err.Error(), `"`+src+`"`) {
			t.Fatalf("declaring %q append-only: %v, want %v naming it", src, err, ErrAppendOnly)
		}
	}
}
