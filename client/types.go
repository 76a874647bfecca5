package client

import (
	"fmt"
	"strings"

	"github.com/arbor-db/arbor/messages"
)

// Type is a column type.
type Type string

// The column types.
const (
	Bool      Type = "bool"
	Int64     Type = "int64"
	Float64   Type = "float64"
	String    Type = "string"
	Bytes     Type = "bytes"
	Timestamp Type = "timestamp"
)

var typesToWire = map[Type]messages.ScalarType{
	Bool: messages.ScalarType_SCALAR_TYPE_BOOL, Int64: messages.ScalarType_SCALAR_TYPE_INT64,
	Float64: messages.ScalarType_SCALAR_TYPE_FLOAT64, String: messages.ScalarType_SCALAR_TYPE_STRING,
	Bytes: messages.ScalarType_SCALAR_TYPE_BYTES, Timestamp: messages.ScalarType_SCALAR_TYPE_TIMESTAMP,
}

// ParseType parses a type name ("int64", "string", ...).
func ParseType(s string) (Type, error) {
	t := Type(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := typesToWire[t]; !ok {
		return "", fmt.Errorf("%w: unknown type %q (types are bool, int64, float64, string, bytes, timestamp)", ErrInvalidArgument, s)
	}
	return t, nil
}

func typeFromWire(w messages.ScalarType) Type {
	for t, x := range typesToWire {
		if x == w {
			return t
		}
	}
	return Type(strings.ToLower(strings.TrimPrefix(w.String(), "SCALAR_TYPE_")))
}

// Column is one column of a schema.
type Column struct {
	Name     string `json:"name"`
	Type     Type   `json:"type"`
	Nullable bool   `json:"nullable,omitempty"`
}

// ParseColumns parses column definitions in the CLI's form:
// "id int64 not null, customer string, amount int64". Columns are
// nullable unless followed by "not null".
func ParseColumns(s string) ([]Column, error) {
	var cols []Column
	for _, part := range strings.Split(s, ",") {
		f := strings.Fields(part)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 && !(len(f) == 4 && strings.EqualFold(f[2], "not") && strings.EqualFold(f[3], "null")) {
			return nil, fmt.Errorf("%w: column %q: want \"name type [not null]\"", ErrInvalidArgument, strings.TrimSpace(part))
		}
		t, err := ParseType(f[1])
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f[0], err)
		}
		cols = append(cols, Column{Name: f[0], Type: t, Nullable: len(f) == 2})
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: no columns", ErrInvalidArgument)
	}
	return cols, nil
}

func schemaToWire(cols []Column) (*messages.Schema, error) {
	w := &messages.Schema{}
	for _, c := range cols {
		t, ok := typesToWire[c.Type]
		if !ok {
			return nil, fmt.Errorf("%w: column %q has unknown type %q", ErrInvalidArgument, c.Name, c.Type)
		}
		w.Columns = append(w.Columns, &messages.Column{Name: c.Name, Type: t, Nullable: c.Nullable})
	}
	return w, nil
}

func schemaFromWire(w *messages.Schema) []Column {
	var cols []Column
	for _, c := range w.GetColumns() {
		cols = append(cols, Column{Name: c.GetName(), Type: typeFromWire(c.GetType()), Nullable: c.GetNullable()})
	}
	return cols
}

// Row is one row: each value is nil (null), bool, int64, float64, string,
// []byte or TimestampValue. Writes also accept int and int32 for int64
// columns.
type Row []any

// TimestampValue is a timestamp datum: milliseconds.
type TimestampValue uint64

// RowToWire encodes a row.
func RowToWire(r Row) (*messages.Row, error) {
	w := &messages.Row{Datums: make([]*messages.Datum, len(r))}
	for i, v := range r {
		d, err := datumToWire(v)
		if err != nil {
			return nil, fmt.Errorf("%w: value %d: %v", ErrInvalidArgument, i, err)
		}
		w.Datums[i] = d
	}
	return w, nil
}

func datumToWire(v any) (*messages.Datum, error) {
	switch x := v.(type) {
	case nil:
		return &messages.Datum{Value: &messages.Datum_Null{Null: &messages.Null{}}}, nil
	case bool:
		return &messages.Datum{Value: &messages.Datum_Bool{Bool: x}}, nil
	case int64:
		return &messages.Datum{Value: &messages.Datum_Int64{Int64: x}}, nil
	case int:
		return &messages.Datum{Value: &messages.Datum_Int64{Int64: int64(x)}}, nil
	case int32:
		return &messages.Datum{Value: &messages.Datum_Int64{Int64: int64(x)}}, nil
	case float64:
		return &messages.Datum{Value: &messages.Datum_Float64{Float64: x}}, nil
	case string:
		return &messages.Datum{Value: &messages.Datum_String_{String_: x}}, nil
	case []byte:
		return &messages.Datum{Value: &messages.Datum_Bytes{Bytes: x}}, nil
	case TimestampValue:
		return &messages.Datum{Value: &messages.Datum_Timestamp{Timestamp: uint64(x)}}, nil
	}
	return nil, fmt.Errorf("unsupported Go type %T", v)
}

// RowFromWire decodes a row.
func RowFromWire(w *messages.Row) Row {
	r := make(Row, len(w.GetDatums()))
	for i, d := range w.GetDatums() {
		switch x := d.GetValue().(type) {
		case *messages.Datum_Bool:
			r[i] = x.Bool
		case *messages.Datum_Int64:
			r[i] = x.Int64
		case *messages.Datum_Float64:
			r[i] = x.Float64
		case *messages.Datum_String_:
			r[i] = x.String_
		case *messages.Datum_Bytes:
			r[i] = x.Bytes
		case *messages.Datum_Timestamp:
			r[i] = TimestampValue(x.Timestamp)
		}
	}
	return r
}

// ObjectType is the kind of a catalog object.
type ObjectType = messages.ClientObjectType

// Object types.
const (
	AnyObject        = messages.ClientObjectType_CLIENT_OBJECT_TYPE_UNSPECIFIED
	Table            = messages.ClientObjectType_CLIENT_OBJECT_TYPE_TABLE
	View             = messages.ClientObjectType_CLIENT_OBJECT_TYPE_VIEW
	Index            = messages.ClientObjectType_CLIENT_OBJECT_TYPE_INDEX
	MaterializedView = messages.ClientObjectType_CLIENT_OBJECT_TYPE_MATERIALIZED_VIEW
	Cluster          = messages.ClientObjectType_CLIENT_OBJECT_TYPE_CLUSTER
	Replica          = messages.ClientObjectType_CLIENT_OBJECT_TYPE_REPLICA
)

// TypeName names an object type: "table", "materialized-view".
func TypeName(t ObjectType) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(t.String(), "CLIENT_OBJECT_TYPE_")), "_", "-")
}

// Object describes a catalog object.
type Object struct {
	Name       string     `json:"name"`
	Type       ObjectType `json:"-"`
	TypeName   string     `json:"type"`
	Columns    []Column   `json:"columns,omitempty"`
	KeyColumns []string   `json:"key_columns,omitempty"`
	Cluster    string     `json:"cluster,omitempty"`
	DependsOn  []string   `json:"depends_on,omitempty"`
	Id         string     `json:"id,omitempty"`
	// AppendOnly marks an append-only table (TableSpec.AppendOnly).
	AppendOnly bool `json:"append_only,omitempty"`
}

func objectFromWire(w *messages.ClientObject) Object {
	return Object{Name: w.GetName(), Type: w.GetType(), TypeName: TypeName(w.GetType()), Columns: schemaFromWire(w.GetSchema()),
		KeyColumns: w.GetKeyColumns(), Cluster: w.GetCluster(), DependsOn: w.GetDependsOn(), Id: w.GetId(),
		AppendOnly: w.GetAppendOnly()}
}
