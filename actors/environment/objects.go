package environment

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
)

func objectType(t messages.CatalogItemType) messages.ClientObjectType {
	switch t {
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE:
		return messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW:
		return messages.ClientObjectType_CLIENT_OBJECT_TYPE_VIEW
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX:
		return messages.ClientObjectType_CLIENT_OBJECT_TYPE_INDEX
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW:
		return messages.ClientObjectType_CLIENT_OBJECT_TYPE_MATERIALIZED_VIEW
	}
	return messages.ClientObjectType_CLIENT_OBJECT_TYPE_UNSPECIFIED
}

// typeName names an item type in messages: "table", "materialized view".
func typeName(t messages.CatalogItemType) string {
	switch t {
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE:
		return "table"
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW:
		return "view"
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX:
		return "index"
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW:
		return "materialized view"
	}
	return "object"
}

func (o *object) toWire(c *Core) *messages.ClientObject {
	w := &messages.ClientObject{Name: o.name, Type: objectType(o.typ), KeyColumns: o.keys, Id: o.id.String(), AppendOnly: o.appendOnly}
	if o.schema != nil {
		w.Schema = dataflow.SchemaToWire(o.schema)
	}
	if computed(o.typ) {
		if cl, ok := c.clusterById[o.cluster]; ok {
			w.Cluster = cl.name
		}
	}
	for _, d := range o.dependsOn {
		if dep, ok := c.byId[d]; ok {
			w.DependsOn = append(w.DependsOn, dep.name)
		}
	}
	return w
}

// objectFromCatalog decodes a catalog item. Views, indexes and
// materialized views are decoded against c, which must hold what they
// read (the catalog's items in id order do: an item's dependencies are
// older).
func objectFromCatalog(it *messages.CatalogItem, c *Core) (*object, error) {
	id, err := it.GetId().ToTimely()
	if err != nil {
		return nil, fmt.Errorf("catalog item %q: %w", it.GetName(), err)
	}
	o := &object{id: id, name: it.GetName(), typ: it.GetType()}
	for _, d := range it.GetDependsOn() {
		did, err := d.ToTimely()
		if err != nil {
			return nil, fmt.Errorf("catalog item %s (%q): dependency: %w", id, it.GetName(), err)
		}
		o.dependsOn = append(o.dependsOn, did)
	}
	if it.GetClusterId() != nil {
		if o.cluster, err = it.GetClusterId().ToTimely(); err != nil {
			return nil, fmt.Errorf("catalog item %s (%q): cluster: %w", id, it.GetName(), err)
		}
	}
	switch it.GetType() {
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE:
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_VIEW, messages.CatalogItemType_CATALOG_ITEM_TYPE_MATERIALIZED_VIEW:
		var def messages.ClientPlan
		if err := proto.Unmarshal(it.GetDefinition(), &def); err != nil {
			return nil, fmt.Errorf("catalog item %s (%q): plan: %w", id, it.GetName(), err)
		}
		o.plan = def.GetPlan()
		if o.compiled, err = c.compilePlan(o.plan); err != nil {
			return nil, fmt.Errorf("catalog item %s (%q): %w", id, it.GetName(), err)
		}
		o.schema = o.compiled.Schema()
		return o, nil
	case messages.CatalogItemType_CATALOG_ITEM_TYPE_INDEX:
		var def messages.ClientTableDefinition
		if err := proto.Unmarshal(it.GetDefinition(), &def); err != nil {
			return nil, fmt.Errorf("catalog item %s (%q): index definition: %w", id, it.GetName(), err)
		}
		if len(o.dependsOn) != 1 {
			return nil, fmt.Errorf("catalog item %s (%q): an index depends on one object, not %d", id, it.GetName(), len(o.dependsOn))
		}
		on, ok := c.byId[o.dependsOn[0]]
		if !ok {
			return nil, fmt.Errorf("catalog item %s (%q): its object %s is unknown", id, it.GetName(), o.dependsOn[0])
		}
		o.on, o.schema = on.id, on.schema
		if o.keys, o.keyIdx, err = keyColumns(def.GetKeyColumns(), on); err != nil {
			return nil, fmt.Errorf("catalog item %s (%q): %w", id, it.GetName(), err)
		}
		return o, nil
	default:
		return o, nil
	}
	var def messages.ClientTableDefinition
	if err := proto.Unmarshal(it.GetDefinition(), &def); err != nil {
		return nil, fmt.Errorf("catalog item %s (%q): table definition: %w", id, it.GetName(), err)
	}
	if o.schema, err = dataflow.SchemaFromWire(def.GetSchema()); err != nil {
		return nil, fmt.Errorf("catalog item %s (%q): table schema: %w", id, it.GetName(), err)
	}
	o.keys = def.GetKeyColumns()
	o.appendOnly = def.GetAppendOnly()
	return o, nil
}

func toWireSchema(o *object) *messages.Schema { return dataflow.SchemaToWire(o.schema) }
