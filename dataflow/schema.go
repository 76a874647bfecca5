package dataflow

import (
	"fmt"
	"strings"
)

// Column describes one column of a schema.
type Column struct {
	Name     string
	Type     Type
	Nullable bool
}

// Schema is the ordered list of a collection's columns.
type Schema []Column

// Arity returns the number of columns.
func (s Schema) Arity() int { return len(s) }

// Index returns the position of the column named name. It fails when no
// column or more than one column has that name.
func (s Schema) Index(name string) (int, error) {
	found := -1
	for i, c := range s {
		if c.Name == name {
			if found >= 0 {
				return 0, fmt.Errorf("%w: column name %q is ambiguous (columns %d and %d)", ErrInvalidPlan, name, found, i)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("%w: unknown column %q (columns are %s)", ErrInvalidPlan, name, s.names())
	}
	return found, nil
}

func (s Schema) names() string {
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = c.Name
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// columnName names column i for error messages: its name, or #i.
func (s Schema) columnName(i int) string {
	if i >= 0 && i < len(s) && s[i].Name != "" {
		return fmt.Sprintf("%q (#%d)", s[i].Name, i)
	}
	return fmt.Sprintf("#%d", i)
}

// Validate checks that row matches the schema: same arity, each datum null
// only where the column is nullable and otherwise of the column's type.
func (s Schema) Validate(row Row) error {
	if len(row) != len(s) {
		return fmt.Errorf("%w: row %s has %d columns, the schema has %d", ErrInvalidRow, row, len(row), len(s))
	}
	for i := range row {
		d, c := &row[i], &s[i] // no copies: this runs for every pushed row
		if d.IsNull() {
			if !c.Nullable {
				return fmt.Errorf("%w: column %s is not nullable but row %s has NULL", ErrInvalidRow, s.columnName(i), row)
			}
			continue
		}
		if !d.is(c.Type) {
			return fmt.Errorf("%w: column %s has type %s but row %s has %s", ErrInvalidRow, s.columnName(i), c.Type, row, d.Type())
		}
	}
	return nil
}

// String prints the schema as name type [null], ...
func (s Schema) String() string {
	parts := make([]string, len(s))
	for i, c := range s {
		p := c.Name + " " + c.Type.String()
		if c.Nullable {
			p += " null"
		}
		parts[i] = p
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// types returns each column's type.
func (s Schema) types() []Type {
	t := make([]Type, len(s))
	for i, c := range s {
		t[i] = c.Type
	}
	return t
}

// rowMatches is Validate's fast path: it reports whether row has want's
// arity and every datum has its column's type (want is Schema.types). One
// comparison of the datum's tag per datum (see Datum.is), no column
// descriptions read. A false answer only
// means Validate must look closer: a null in a nullable column is valid but
// does not match.
func rowMatches(want []Type, row Row) bool {
	if len(row) != len(want) {
		return false
	}
	for i := range row {
		if !row[i].is(want[i]) {
			return false
		}
	}
	return true
}
