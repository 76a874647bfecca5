package dataflow

import (
	"fmt"
	"math"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// DatumToWire encodes a datum.
func DatumToWire(d Datum) *messages.Datum {
	switch d.Type() {
	case TypeBool:
		return &messages.Datum{Value: &messages.Datum_Bool{Bool: d.w == 1}}
	case TypeInt64:
		return &messages.Datum{Value: &messages.Datum_Int64{Int64: d.int()}}
	case TypeFloat64:
		return &messages.Datum{Value: &messages.Datum_Float64{Float64: math.Float64frombits(d.w)}}
	case TypeString:
		return &messages.Datum{Value: &messages.Datum_String_{String_: d.str()}}
	case TypeBytes:
		return &messages.Datum{Value: &messages.Datum_Bytes{Bytes: []byte(d.str())}}
	case TypeTimestamp:
		return &messages.Datum{Value: &messages.Datum_Timestamp{Timestamp: d.w}}
	}
	return &messages.Datum{Value: &messages.Datum_Null{Null: &messages.Null{}}}
}

// DatumFromWire decodes a datum. A nil datum, or one with no value set, is
// malformed (null must be said with the null value); the error wraps
// messages.ErrMalformed.
func DatumFromWire(w *messages.Datum) (Datum, error) {
	if w == nil {
		return Datum{}, fmt.Errorf("%w: datum is missing", messages.ErrMalformed)
	}
	switch v := w.Value.(type) {
	case *messages.Datum_Null:
		return Null(), nil
	case *messages.Datum_Bool:
		return Bool(v.Bool), nil
	case *messages.Datum_Int64:
		return Int64(v.Int64), nil
	case *messages.Datum_Float64:
		return Float64(v.Float64), nil
	case *messages.Datum_String_:
		return String(v.String_), nil
	case *messages.Datum_Bytes:
		return Bytes(v.Bytes), nil
	case *messages.Datum_Timestamp:
		return Timestamp(timely.Timestamp(v.Timestamp)), nil
	}
	return Datum{}, fmt.Errorf("%w: datum has no value (use null for NULL)", messages.ErrMalformed)
}

// RowToWire encodes a row.
func RowToWire(r Row) *messages.Row {
	w := &messages.Row{Datums: make([]*messages.Datum, len(r))}
	for i, d := range r {
		w.Datums[i] = DatumToWire(d)
	}
	return w
}

// RowFromWire decodes a row; errors name the position of the bad datum and
// wrap messages.ErrMalformed.
func RowFromWire(w *messages.Row) (Row, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: row is missing", messages.ErrMalformed)
	}
	r := make(Row, len(w.Datums))
	for i, wd := range w.Datums {
		d, err := DatumFromWire(wd)
		if err != nil {
			return nil, fmt.Errorf("datum %d of row: %w", i, err)
		}
		r[i] = d
	}
	return r, nil
}

// TypeToWire encodes a type.
func TypeToWire(t Type) messages.ScalarType {
	if !t.Valid() {
		return messages.ScalarType_SCALAR_TYPE_UNSPECIFIED
	}
	return messages.ScalarType(t)
}

// TypeFromWire decodes a type; an unspecified or unknown type is an error
// wrapping messages.ErrMalformed.
func TypeFromWire(w messages.ScalarType) (Type, error) {
	t := Type(w)
	if w <= 0 || !t.Valid() {
		return 0, fmt.Errorf("%w: invalid scalar type %v", messages.ErrMalformed, w)
	}
	return t, nil
}

// SchemaToWire encodes a schema.
func SchemaToWire(s Schema) *messages.Schema {
	w := &messages.Schema{Columns: make([]*messages.Column, len(s))}
	for i, c := range s {
		w.Columns[i] = &messages.Column{Name: c.Name, Type: TypeToWire(c.Type), Nullable: c.Nullable}
	}
	return w
}

// SchemaFromWire decodes a schema; errors name the bad column.
func SchemaFromWire(w *messages.Schema) (Schema, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: schema is missing", messages.ErrMalformed)
	}
	s := make(Schema, len(w.Columns))
	for i, c := range w.Columns {
		if c == nil {
			return nil, fmt.Errorf("%w: column %d of schema is missing", messages.ErrMalformed, i)
		}
		t, err := TypeFromWire(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %d (%q) of schema: %w", i, c.Name, err)
		}
		s[i] = Column{Name: c.Name, Type: t, Nullable: c.Nullable}
	}
	return s, nil
}
