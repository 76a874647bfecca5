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

func (o *object) toWire() *messages.ClientObject {
	w := &messages.ClientObject{Name: o.name, Type: objectType(o.typ), KeyColumns: o.keys, Id: o.id.String()}
	if o.schema != nil {
		w.Schema = dataflow.SchemaToWire(o.schema)
	}
	return w
}

// objectFromCatalog decodes a catalog item. Items of types this build does
// not serve yet are kept with their name, so their names stay taken.
func objectFromCatalog(it *messages.CatalogItem) (*object, error) {
	id, err := it.GetId().ToTimely()
	if err != nil {
		return nil, fmt.Errorf("catalog item %q: %w", it.GetName(), err)
	}
	o := &object{id: id, name: it.GetName(), typ: it.GetType()}
	if it.GetType() != messages.CatalogItemType_CATALOG_ITEM_TYPE_TABLE {
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
	return o, nil
}

func toWireSchema(o *object) *messages.Schema { return dataflow.SchemaToWire(o.schema) }
