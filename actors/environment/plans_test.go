package environment

import (
	"errors"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func getOf(id timely.GlobalId) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(id)}}}
}

func unionOf(in ...*messages.Plan) *messages.Plan {
	return &messages.Plan{Node: &messages.Plan_Union{Union: &messages.UnionPlan{Inputs: in}}}
}

// planCore holds a table t (u1), a view v over it (u2) and an index on v
// (u3).
func planCore(t *testing.T) *Core {
	c := NewCore(1)
	schema := dataflow.Schema{{Name: "x", Type: dataflow.TypeInt64}}
	c.AddObject(&object{id: timely.UserId(1), name: "t", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE, schema: schema})
	view := unionOf(getOf(timely.UserId(1)), getOf(timely.UserId(1)))
	compiled, err := c.compilePlan(view)
	if err != nil {
		t.Fatal(err)
	}
	c.AddObject(&object{id: timely.UserId(2), name: "v", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW, plan: view, compiled: compiled,
		schema: compiled.Schema(), dependsOn: []timely.GlobalId{timely.UserId(1)}})
	c.AddObject(&object{id: timely.UserId(3), name: "i", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX, on: timely.UserId(2), schema: schema})
	return c
}

func TestBindPlan(t *testing.T) {
	c := planCore(t)
	p1, p2 := timely.TransientId(1), timely.TransientId(2)
	for _, tc := range []struct {
		name    string
		plan    *messages.ClientPlan
		deps    string
		err     error
		mention string
	}{
		{"a table and a view", &messages.ClientPlan{Plan: unionOf(getOf(p1), getOf(p2)), Sources: map[uint64]string{1: "t", 2: "v"}}, "[u1 u2]", nil, ""},
		{"one name twice", &messages.ClientPlan{Plan: unionOf(getOf(p1), getOf(p1)), Sources: map[uint64]string{1: "t"}}, "[u1]", nil, ""},
		{"empty", &messages.ClientPlan{}, "", ErrInvalidRequest, "empty"},
		{"unknown name", &messages.ClientPlan{Plan: getOf(p1), Sources: map[uint64]string{1: "nope"}}, "", ErrUnknownObject, `"nope"`},
		{"unbound placeholder", &messages.ClientPlan{Plan: getOf(p2), Sources: map[uint64]string{1: "t"}}, "", ErrInvalidRequest, "t2"},
		{"a catalog id", &messages.ClientPlan{Plan: getOf(timely.UserId(1))}, "", ErrInvalidRequest, "by id"},
		{"an index", &messages.ClientPlan{Plan: getOf(p1), Sources: map[uint64]string{1: "i"}}, "", ErrInvalidRequest, "index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, deps, _, err := c.bindPlan("create view", tc.plan)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.mention) {
					t.Fatalf("got %v, want %v mentioning %q", err, tc.err, tc.mention)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmtIds(deps) != tc.deps {
				t.Fatalf("dependencies %s, want %s", fmtIds(deps), tc.deps)
			}
			if tc.plan.GetPlan().GetUnion().GetInputs()[0].GetGet().GetSource().GetKind() != messages.IdKind_ID_KIND_TRANSIENT {
				t.Fatal("binding changed the client's plan")
			}
			gets(plan.ProtoReflect(), func(g *messages.GetPlan) {
				if g.GetSource().GetKind() == messages.IdKind_ID_KIND_TRANSIENT {
					t.Fatalf("a placeholder is left in %v", plan)
				}
			})
		})
	}
}

func fmtIds(ids []timely.GlobalId) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

// A dataflow of an index on a view reads the view's tables: the view is
// inlined, and the description exports an index keyed as asked.
func TestDescribeInlinesViews(t *testing.T) {
	c := planCore(t)
	ix := c.byId[timely.UserId(3)]
	ix.keyIdx = []uint32{0}
	desc, tables, err := c.describe(ix, 7)
	if err != nil {
		t.Fatal(err)
	}
	if fmtIds(tables) != "[u1]" || len(desc.GetSourceImports()) != 1 {
		t.Fatalf("tables %v, imports %v", tables, desc.GetSourceImports())
	}
	if len(desc.GetIndexExports()) != 1 || desc.GetIndexExports()[0].GetKey()[0] != 0 || desc.GetAsOf().String() == "" {
		t.Fatalf("exports %v", desc.GetIndexExports())
	}
	gets(desc.GetObjectsToBuild()[0].GetPlan().ProtoReflect(), func(g *messages.GetPlan) {
		if id, _ := g.GetSource().ToTimely(); id != timely.UserId(1) {
			t.Fatalf("the built plan reads %s, not the table", id)
		}
	})
	if c.byId[timely.UserId(2)].plan.GetUnion().GetInputs()[0].GetGet() == nil {
		t.Fatal("inlining changed the view's own plan")
	}
}

// A view over a materialized view reads the view's storage collection: the
// materialized view is not inlined (it is not recomputed by its readers),
// and its collection is imported with collection set; the view over it is
// inlined down to that import.
func TestDescribeImportsMaterializedViewCollections(t *testing.T) {
	c := planCore(t)
	mvPlan := getOf(timely.UserId(1))
	compiled, err := c.compilePlan(mvPlan)
	if err != nil {
		t.Fatal(err)
	}
	c.AddObject(&object{id: timely.UserId(4), name: "m", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW, plan: mvPlan, compiled: compiled,
		schema: compiled.Schema(), dependsOn: []timely.GlobalId{timely.UserId(1)}, cluster: timely.ClusterId{Kind: timely.User, Value: 1}})
	over := unionOf(getOf(timely.UserId(4)), getOf(timely.UserId(1)))
	compiledOver, err := c.compilePlan(over)
	if err != nil {
		t.Fatal(err)
	}
	c.AddObject(&object{id: timely.UserId(5), name: "v2", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW, plan: over, compiled: compiledOver,
		schema: compiledOver.Schema(), dependsOn: []timely.GlobalId{timely.UserId(1), timely.UserId(4)}})
	c.AddObject(&object{id: timely.UserId(6), name: "i2", typ: messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX, on: timely.UserId(5), schema: compiledOver.Schema(), keyIdx: []uint32{0}})

	desc, sources, err := c.describe(c.byId[timely.UserId(6)], 7)
	if err != nil {
		t.Fatal(err)
	}
	if fmtIds(sources) != "[u1 u4]" {
		t.Fatalf("sources %v", sources)
	}
	kinds := map[string]bool{}
	for _, si := range desc.GetSourceImports() {
		id, _ := si.GetId().ToTimely()
		kinds[id.String()] = si.GetCollection()
	}
	if len(kinds) != 2 || kinds["u1"] || !kinds["u4"] {
		t.Fatalf("imports (id: collection) %v; want u1 a table, u4 a collection", kinds)
	}
	read := map[timely.GlobalId]bool{}
	gets(desc.GetObjectsToBuild()[0].GetPlan().ProtoReflect(), func(g *messages.GetPlan) {
		id, _ := g.GetSource().ToTimely()
		read[id] = true
	})
	if len(read) != 2 || !read[timely.UserId(1)] || !read[timely.UserId(4)] {
		t.Fatalf("the built plan reads %v; want the table and the materialized view's collection", read)
	}

	// The materialized view's own dataflow computes from its plan.
	mvDesc, mvSources, err := c.describe(c.byId[timely.UserId(4)], 7)
	if err != nil {
		t.Fatal(err)
	}
	if fmtIds(mvSources) != "[u1]" || mvDesc.GetSourceImports()[0].GetCollection() {
		t.Fatalf("materialized view's sources %v, imports %v", mvSources, mvDesc.GetSourceImports())
	}
}
