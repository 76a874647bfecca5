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
