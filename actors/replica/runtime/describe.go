package runtime

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// How a dataflow description becomes flows. The coordinator runs one flow
// per exported collection, with a self-contained plan over storage
// collections; a description builds several objects, each of which may
// read objects built before it or indexes of other dataflows. So each
// export's plan is the plan of the object it exports with every Get of an
// earlier object or of an imported index replaced by that object's plan
// (inlined): an index import is recomputed from the storage collections
// under it rather than read from the other dataflow's arrangement. The
// result is the same collection; the cost is the duplicated computation.
// A source import is not inlined: a table, or a storage collection (a
// materialized view's shard, collection set) that the runtime reads from
// storage (collection_feed.go) whichever cluster computes it.

// exportKind is what an export becomes.
type exportKind uint8

const (
	exportIndex exportKind = iota + 1
	exportMaterializedView
	exportSubscribe
)

// builtObject is an object's plan with every Get naming a source import,
// and those imports.
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

// indexLookup finds the object under an installed index of this runtime.
type indexLookup func(index timely.GlobalId) (builtObject, bool)

// planExports inlines a description's objects and returns its exports as
// flows, and the built objects by id (so that later dataflows importing
// its indexes can inline them).
func planExports(desc *messages.ComputeDataflowDescription, indexes indexLookup) ([]exportFlow, map[timely.GlobalId]builtObject, error) {
	name := desc.GetDebugName()
	imports := map[timely.GlobalId]*messages.ComputeSourceImport{}
	for _, s := range desc.GetSourceImports() {
		id, err := s.GetId().ToTimely()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: dataflow %q: source import: %v", ErrInvalidCommand, name, err)
		}
		imports[id] = s
	}
	// Index imports are read under the indexed collection's id.
	imported := map[timely.GlobalId]builtObject{}
	for _, ix := range desc.GetIndexImports() {
		id, err := ix.GetId().ToTimely()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: dataflow %q: index import: %v", ErrInvalidCommand, name, err)
		}
		on, err := ix.GetOn().ToTimely()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: dataflow %q: index import %s: %v", ErrInvalidCommand, name, id, err)
		}
		obj, ok := indexes(id)
		if !ok {
			return nil, nil, messages.WithObject(fmt.Errorf("%w: dataflow %q imports index %s, which no dataflow of this replica exports", ErrUnknownCollection, name, id), id.String())
		}
		imported[on] = obj
	}
	built := map[timely.GlobalId]builtObject{}
	for _, o := range desc.GetObjectsToBuild() {
		id, err := o.GetId().ToTimely()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: dataflow %q: object: %v", ErrInvalidCommand, name, err)
		}
		if o.GetPlan() == nil {
			return nil, nil, fmt.Errorf("%w: dataflow %q: object %s has no plan", ErrInvalidCommand, name, id)
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
			case imported[src].plan != nil:
				from = imported[src]
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
			return nil, nil, err
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
			return nil, nil, err
		}
		flows = append(flows, exportFlow{export: id, kind: exportIndex, on: on, object: obj, key: ix.GetKey()})
	}
	for _, s := range desc.GetSinkExports() {
		id, _ := s.GetId().ToTimely()
		on, obj, err := object(s.GetFrom(), id)
		if err != nil {
			return nil, nil, err
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
					return nil, nil, fmt.Errorf("%w: dataflow %q: materialized view %s: storage collection: %v", ErrInvalidCommand, name, id, err)
				}
				f.collection = &scId
			}
		case *messages.ComputeSinkExport_Subscribe:
			f.kind = exportSubscribe
		default:
			return nil, nil, fmt.Errorf("%w: dataflow %q: sink %s has no connection", ErrInvalidCommand, name, id)
		}
		flows = append(flows, f)
	}
	return flows, built, nil
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
