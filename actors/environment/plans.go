package environment

import (
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// A client names a plan's sources by catalog name (ClientPlan): its Get
// nodes carry transient placeholder ids, bound to names in sources. The
// environment binds each placeholder to the named object's id, type checks
// the plan against the objects' schemas (dataflow.Compile), and keeps the
// bound plan in the catalog. To compute it, every Get of a view is
// replaced by that view's own plan (inlined); a Get of a materialized view
// stays and becomes a source import of the view's storage collection
// (collection set), whichever cluster computes the view: the collection is
// the shared truth, and a reader never recomputes it. So a dataflow reads
// storage tables and materialized views' collections only.
//
// Append-only tables: the lowered plan's Get of an append-only table
// carries GetPlan.append_only, so the dataflow takes the engine's
// append-only paths (docs/dataflow.md); every other Get has it cleared.
// The catalog's declaration is the only source of the flag, which storage
// enforces (it refuses a retraction of such a table's rows): a client
// plan that declares a source append-only is refused unless the source is
// an append-only table. A materialized view's collection is never
// declared append-only, even over append-only inputs: that would need the
// dataflow package to say which plans only gain rows, and storage to
// refuse the view's retractions.

// gets calls f on every Get node of p, depth first.
func gets(m protoreflect.Message, f func(*messages.GetPlan)) {
	if g, ok := m.Interface().(*messages.GetPlan); ok {
		f(g)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				gets(l.Get(i).Message(), f)
			}
		case fd.IsMap():
		case fd.Message() != nil:
			gets(v.Message(), f)
		}
		return true
	})
}

// bindPlan resolves a client plan's placeholders to catalog objects and
// type checks it. It returns the bound plan (a copy), the objects it reads
// (ordered by id) and the compiled plan. what names the statement in
// errors.
func (c *Core) bindPlan(what string, w *messages.ClientPlan) (*messages.Plan, []timely.GlobalId, *dataflow.Plan, error) {
	if w.GetPlan() == nil {
		return nil, nil, nil, errorf(ErrInvalidRequest, "%s: the plan is empty", what)
	}
	plan := proto.Clone(w.GetPlan()).(*messages.Plan)
	var bindErr error
	deps := map[timely.GlobalId]bool{}
	gets(plan.ProtoReflect(), func(g *messages.GetPlan) {
		if bindErr != nil {
			return
		}
		src := g.GetSource()
		if src.GetKind() != messages.IdKind_ID_KIND_TRANSIENT {
			bindErr = errorf(ErrInvalidRequest, "%s: a Get names source %s by id; name it in the plan's sources under a placeholder (a transient id)", what, src)
			return
		}
		name, ok := w.GetSources()[src.GetValue()]
		if !ok {
			bindErr = errorf(ErrInvalidRequest, "%s: the Get of placeholder t%d names no source (add it to the plan's sources)", what, src.GetValue())
			return
		}
		o, ok := c.objects[name]
		if !ok {
			bindErr = errorf(ErrUnknownObject, "%s: source %q does not exist", what, name)
			return
		}
		if o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX {
			bindErr = errorf(ErrInvalidRequest, "%s: source %q is an index; read the object it indexes", what, name)
			return
		}
		if g.GetAppendOnly() && !o.appendOnly {
			bindErr = errorf(ErrAppendOnly, "%s: the Get of %s %q declares it append-only, and it is not (create the table with append_only)", what, typeName(o.typ), name)
			return
		}
		g.Source = messages.FromGlobalId(o.id)
		deps[o.id] = true
	})
	if bindErr != nil {
		return nil, nil, nil, bindErr
	}
	compiled, err := c.compilePlan(plan)
	if err != nil {
		return nil, nil, nil, errorf(ErrInvalidRequest, "%s: %v", what, err)
	}
	out := make([]timely.GlobalId, 0, len(deps))
	for id := range deps {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Compare(out[j]) < 0 })
	return plan, out, compiled, nil
}

// compilePlan type checks a bound plan against the schemas of the objects
// it reads.
func (c *Core) compilePlan(plan *messages.Plan) (*dataflow.Plan, error) {
	schemas := map[timely.GlobalId]dataflow.Schema{}
	gets(plan.ProtoReflect(), func(g *messages.GetPlan) {
		if id, err := g.GetSource().ToTimely(); err == nil {
			if o, ok := c.byId[id]; ok && o.schema != nil {
				schemas[id] = o.schema
			}
		}
	})
	return dataflow.Compile(plan, schemas)
}

// inline returns plan with every Get of a view replaced by that view's
// plan, recursively, and the storage collections it then reads, ordered by
// id: tables, and materialized views (read from their collections, not
// inlined). A Get of a table is append-only exactly when the table is.
func (c *Core) inline(plan *messages.Plan) (*messages.Plan, []timely.GlobalId, error) {
	out := proto.Clone(plan).(*messages.Plan)
	tables := map[timely.GlobalId]bool{}
	var walk func(p *messages.Plan, depth int) error
	walk = func(p *messages.Plan, depth int) error {
		if depth > 64 {
			return errorf(ErrInternal, "views nest more than 64 deep")
		}
		var err error
		var replace []*messages.Plan
		// Collect the Plan nodes that are Gets first: replacing a node's
		// content while ranging over it is not allowed.
		var visit func(m protoreflect.Message)
		visit = func(m protoreflect.Message) {
			if pl, ok := m.Interface().(*messages.Plan); ok && pl.GetGet() != nil {
				replace = append(replace, pl)
				return
			}
			m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
				switch {
				case fd.IsList() && fd.Message() != nil:
					l := v.List()
					for i := 0; i < l.Len(); i++ {
						visit(l.Get(i).Message())
					}
				case fd.IsMap():
				case fd.Message() != nil:
					visit(v.Message())
				}
				return true
			})
		}
		visit(p.ProtoReflect())
		for _, pl := range replace {
			id, e := pl.GetGet().GetSource().ToTimely()
			if e != nil {
				return errorf(ErrInternal, "a bound plan has a bad source: %v", e)
			}
			o, ok := c.byId[id]
			if !ok {
				return errorf(ErrUnknownObject, "source %s does not exist", id)
			}
			if o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE || o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW {
				tables[id] = true
				// The catalog decides, not the plan (see the top of
				// this file).
				pl.GetGet().AppendOnly = o.appendOnly
				continue
			}
			if o.plan == nil {
				return errorf(ErrInternal, "%s %q has no plan", typeName(o.typ), o.name)
			}
			sub := proto.Clone(o.plan).(*messages.Plan)
			if err = walk(sub, depth+1); err != nil {
				return err
			}
			proto.Reset(pl)
			proto.Merge(pl, sub)
		}
		return nil
	}
	if err := walk(out, 0); err != nil {
		return nil, nil, err
	}
	ids := make([]timely.GlobalId, 0, len(tables))
	for id := range tables {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Compare(ids[j]) < 0 })
	return out, ids, nil
}

// keyColumns resolves an index's key columns on o (every column when
// none are named).
func keyColumns(names []string, o *object) ([]string, []uint32, error) {
	if len(names) == 0 {
		names = make([]string, len(o.schema))
		for i, col := range o.schema {
			names[i] = col.Name
		}
	}
	idx := make([]uint32, len(names))
	seen := map[string]bool{}
	for i, n := range names {
		if seen[n] {
			return nil, nil, errorf(ErrInvalidRequest, "key column %q appears twice", n)
		}
		seen[n] = true
		found := false
		for j, col := range o.schema {
			if col.Name == n {
				idx[i], found = uint32(j), true
				break
			}
		}
		if !found {
			return nil, nil, errorf(ErrInvalidRequest, "key column %q is not a column of %s %q (columns are %s)", n, typeName(o.typ), o.name, o.schema)
		}
	}
	return names, idx, nil
}

// describe returns the dataflow that computes an index or a materialized
// view at asOf, and the storage collections it reads (tables and
// materialized views).
func (c *Core) describe(o *object, asOf timely.Timestamp) (*messages.ComputeDataflowDescription, []timely.GlobalId, error) {
	var plan *messages.Plan
	switch o.typ {
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX:
		on, ok := c.byId[o.on]
		if !ok {
			return nil, nil, errorf(ErrInternal, "index %q: its object %s is unknown", o.name, o.on)
		}
		plan = &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{Source: messages.FromGlobalId(on.id)}}}
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW:
		plan = o.plan
		// An index on a materialized view arranges the view's collection
		// (the Get above); the view itself computes from its plan.
	default:
		return nil, nil, errorf(ErrInternal, "%s %q is not computed on a cluster", typeName(o.typ), o.name)
	}
	return c.describePlan(o.id, o.name, plan, o.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW, o.keyIdx, asOf)
}

// describePlan builds the one-object dataflow exporting id: an index
// arranged by key, or a materialized-view sink. It returns the storage
// collections the dataflow imports: tables, and materialized views'
// collections (imported with collection set).
func (c *Core) describePlan(id timely.GlobalId, name string, plan *messages.Plan, materialized bool, key []uint32, asOf timely.Timestamp) (*messages.ComputeDataflowDescription, []timely.GlobalId, error) {
	inlined, tables, err := c.inline(plan)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &messages.ComputeDataflowDescription{
		ObjectsToBuild: []*messages.ComputeBuildDesc{{Id: messages.FromGlobalId(id), Plan: inlined}},
		AsOf:           messages.FromFrontier(timely.At(asOf)),
		DebugName:      name,
	}
	for _, t := range tables {
		src := c.byId[t]
		d.SourceImports = append(d.SourceImports, &messages.ComputeSourceImport{Id: messages.FromGlobalId(t), Schema: dataflow.SchemaToWire(src.schema),
			Collection: src.typ == messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW})
	}
	if materialized {
		d.SinkExports = []*messages.ComputeSinkExport{{Id: messages.FromGlobalId(id), From: messages.FromGlobalId(id),
			Connection: &messages.ComputeSinkExport_MaterializedView{MaterializedView: &messages.ComputeMaterializedViewSink{StorageCollection: messages.FromGlobalId(id)}}}}
	} else {
		d.IndexExports = []*messages.ComputeIndexExport{{Id: messages.FromGlobalId(id), On: messages.FromGlobalId(id), Key: key}}
	}
	return d, tables, nil
}
