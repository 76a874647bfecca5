package runtime

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// How a dataflow description becomes flows. The coordinator runs one flow
// per exported collection; a description builds several objects, each of
// which may read objects built before it, source imports or indexes of
// other dataflows. So each export's plan is the plan of the object it
// exports with every Get of an earlier object of the same dataflow
// replaced by that object's plan (inlined: those objects are not exported
// as flows of their own).
//
// An index import is not inlined: it is read. Every index flow is
// materialized (the coordinator commits its output with its checkpoint),
// and a Get of the indexed collection becomes a Get of the index's id,
// which the importing flow reads as a view source (pool.SourceView) whose
// producer is the index's flow. The coordinator bounds the importer's
// input frontier by the producer's committed checkpoint, backfills it from
// the committed output (also after a restart: it rebuilds from the
// producer's committed output, never from the tables under it) and demotes
// it to backfilling while its producer is in the same step, so it never
// reads output that is not committed. The importer's plan has no Get of
// the tables under the index: nothing is computed twice. The import's
// schema must have the index's column types (an import without one reads
// the index's own). The cost is that an index's output is also written to the
// output shard, imported or not (whether a later dataflow will import it
// is not known when it is built).
//
// A source import is not inlined either: a table, or a storage collection
// (a materialized view's shard, collection set) that the runtime reads
// from storage (collection_feed.go) whichever cluster computes it.

// exportKind is what an export becomes.
type exportKind uint8

const (
	exportIndex exportKind = iota + 1
	exportMaterializedView
	exportSubscribe
)

// builtObject is an object's plan with every Get naming a source import
// or an imported index (by the index's id), and those sources; an index
// is described by a ComputeSourceImport with its id and schema.
type builtObject struct {
	plan    *messages.Plan
	sources map[timely.GlobalId]*messages.ComputeSourceImport
}

// exportFlow is one export of a dataflow as one flow.
type exportFlow struct {
	export timely.GlobalId
	kind   exportKind
	// on is the built object the export reads.
	on     timely.GlobalId
	object builtObject
	// key is an index's key; nil means the whole row.
	key []uint32
	// collection is a materialized view's storage collection (nil: the
	// view stays in the runtime's output store only).
	collection *timely.GlobalId
}

// indexLookup finds an index installed on this runtime and the schema of
// its rows.
type indexLookup func(index timely.GlobalId) (dataflow.Schema, bool)

// planExports inlines a description's objects into their exports, points
// the Gets of imported indexes at the indexes, and returns the exports as
// flows.
func planExports(desc *messages.ComputeDataflowDescription, indexes indexLookup) ([]exportFlow, error) {
	name := desc.GetDebugName()
	imports := map[timely.GlobalId]*messages.ComputeSourceImport{}
	for _, s := range desc.GetSourceImports() {
		id, err := s.GetId().ToTimely()
		if err != nil {
			return nil, fmt.Errorf("%w: dataflow %q: source import: %v", ErrInvalidCommand, name, err)
		}
		imports[id] = s
	}
	// Index imports are read under the indexed collection's id; the Get
	// is pointed at the index, read as a view of the index's flow.
	imported := map[timely.GlobalId]*messages.ComputeSourceImport{}
	for _, ix := range desc.GetIndexImports() {
		id, err := ix.GetId().ToTimely()
		if err != nil {
			return nil, fmt.Errorf("%w: dataflow %q: index import: %v", ErrInvalidCommand, name, err)
		}
		on, err := ix.GetOn().ToTimely()
		if err != nil {
			return nil, fmt.Errorf("%w: dataflow %q: index import %s: %v", ErrInvalidCommand, name, id, err)
		}
		have, ok := indexes(id)
		if !ok {
			return nil, messages.WithObject(fmt.Errorf("%w: dataflow %q imports index %s, which no dataflow of this replica exports", ErrUnknownCollection, name, id), id.String())
		}
		schema := ix.GetSchema()
		if schema == nil {
			// Not given: the index's own.
			schema = dataflow.SchemaToWire(have)
		} else {
			want, err := dataflow.SchemaFromWire(schema)
			if err != nil {
				return nil, messages.WithObject(fmt.Errorf("%w: dataflow %q: index import %s: schema: %v", ErrInvalidCommand, name, id, err), id.String())
			}
			// Column names are the planner's business; the rows read
			// must have the types the importer compiles against.
			if !sameTypes(want, have) {
				return nil, messages.WithObject(fmt.Errorf("%w: dataflow %q imports index %s with schema %v, but the index's rows are %v", ErrInvalidCommand, name, id, want, have), id.String())
			}
		}
		imported[on] = &messages.ComputeSourceImport{Id: ix.GetId(), Schema: schema}
	}
	built := map[timely.GlobalId]builtObject{}
	for _, o := range desc.GetObjectsToBuild() {
		id, err := o.GetId().ToTimely()
		if err != nil {
			return nil, fmt.Errorf("%w: dataflow %q: object: %v", ErrInvalidCommand, name, err)
		}
		if o.GetPlan() == nil {
			return nil, fmt.Errorf("%w: dataflow %q: object %s has no plan", ErrInvalidCommand, name, id)
		}
		obj := builtObject{plan: proto.Clone(o.GetPlan()).(*messages.Plan), sources: map[timely.GlobalId]*messages.ComputeSourceImport{}}
		var visit func(p *messages.Plan) error
		visit = func(p *messages.Plan) error {
			g := p.GetGet()
			if g == nil {
				return walkPlans(p.ProtoReflect(), visit)
			}
			src, err := g.GetSource().ToTimely()
			if err != nil {
				return fmt.Errorf("%w: dataflow %q: object %s: get: %v", ErrInvalidCommand, name, id, err)
			}
			var from builtObject
			switch {
			case imports[src] != nil:
				obj.sources[src] = imports[src]
				return nil
			case built[src].plan != nil:
				from = built[src]
			case imported[src] != nil:
				ix := imported[src]
				ixId, _ := ix.GetId().ToTimely() // checked above
				g.Source = ix.GetId()
				obj.sources[ixId] = ix
				return nil
			default:
				return messages.WithObject(fmt.Errorf("%w: dataflow %q: object %s reads %s, which it neither imports nor builds before it", ErrInvalidCommand, name, id, src), src.String())
			}
			proto.Reset(p)
			proto.Merge(p, from.plan)
			for k, v := range from.sources {
				obj.sources[k] = v
			}
			return nil
		}
		if err := visit(obj.plan); err != nil {
			return nil, err
		}
		built[id] = obj
	}
	object := func(w *messages.GlobalId, export timely.GlobalId) (timely.GlobalId, builtObject, error) {
		on, err := w.ToTimely()
		if err != nil {
			return on, builtObject{}, fmt.Errorf("%w: dataflow %q: export %s: %v", ErrInvalidCommand, name, export, err)
		}
		obj, ok := built[on]
		if !ok {
			return on, obj, messages.WithObject(fmt.Errorf("%w: dataflow %q: export %s reads %s, which the dataflow does not build", ErrInvalidCommand, name, export, on), on.String())
		}
		return on, obj, nil
	}
	var flows []exportFlow
	for _, ix := range desc.GetIndexExports() {
		id, _ := ix.GetId().ToTimely() // checked by exportsOf
		on, obj, err := object(ix.GetOn(), id)
		if err != nil {
			return nil, err
		}
		flows = append(flows, exportFlow{export: id, kind: exportIndex, on: on, object: obj, key: ix.GetKey()})
	}
	for _, s := range desc.GetSinkExports() {
		id, _ := s.GetId().ToTimely()
		on, obj, err := object(s.GetFrom(), id)
		if err != nil {
			return nil, err
		}
		f := exportFlow{export: id, on: on, object: obj}
		switch c := s.Connection.(type) {
		case *messages.ComputeSinkExport_MaterializedView:
			f.kind = exportMaterializedView
			if sc := c.MaterializedView.GetStorageCollection(); sc != nil {
				// Other dataflows read the collection by its own id (a
				// source import with collection set); a flow of this
				// replica that imports the sink's id without it reads the
				// committed output by the sink's id.
				scId, err := sc.ToTimely()
				if err != nil {
					return nil, fmt.Errorf("%w: dataflow %q: materialized view %s: storage collection: %v", ErrInvalidCommand, name, id, err)
				}
				f.collection = &scId
			}
		case *messages.ComputeSinkExport_Subscribe:
			f.kind = exportSubscribe
		default:
			return nil, fmt.Errorf("%w: dataflow %q: sink %s has no connection", ErrInvalidCommand, name, id)
		}
		flows = append(flows, f)
	}
	return flows, nil
}

// sameTypes reports whether two schemas have the same column types.
func sameTypes(a, b dataflow.Schema) bool {
	return slices.EqualFunc(a, b, func(x, y dataflow.Column) bool { return x.Type == y.Type })
}

// walkPlans calls visit on every Plan directly under m (not on m itself),
// descending through the messages between them; visit descends further.
func walkPlans(m protoreflect.Message, visit func(*messages.Plan) error) error {
	var err error
	one := func(v protoreflect.Message) {
		if err != nil {
			return
		}
		if p, ok := v.Interface().(*messages.Plan); ok {
			err = visit(p)
			return
		}
		err = walkPlans(v, visit)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				one(l.Get(i).Message())
			}
		} else {
			one(v.Message())
		}
		return err == nil
	})
	return err
}
