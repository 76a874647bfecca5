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

// rowShape is a schema's column types as Push checks them: per column,
// the type and, for a type whose datums all carry its tag (bool, float64
// and timestamp, see Datum), the tag's address.
type rowShape struct {
	types []Type
	tags  []uintptr // 0 for an int64, string or bytes column
}

func (s Schema) shape() rowShape {
	sh := rowShape{types: s.types(), tags: make([]uintptr, len(s))}
	for i, c := range s {
		switch c.Type {
		case TypeInt64, TypeString, TypeBytes:
		default:
			sh.tags[i] = uintptr(tagOf(c.Type))
		}
	}
	return sh
}

// batchMatches is Validate's fast path for a batch: it reports whether
// every row has the shape's arity and every datum its column's type. It
// checks a column at a time (the column's type hoisted out of the loop over
// rows), so the loop is a few instructions per row and the first reads of
// many rows, which often come from memory, are in flight at once: an int64
// column by its datums' pointer and word (Datum.isInt), a tagged column by
// folding its datums' tags into one word with no branch, a string or bytes
// column by its datums' types. A false answer only means Validate must
// look closer: a null in a nullable column is valid but does not match.
func (s *rowShape) batchMatches(updates []Update) bool {
	n := len(s.tags)
	for i := range updates {
		if len(updates[i].Row) != n {
			return false
		}
	}
	for j, t := range s.tags {
		switch typ := s.types[j]; {
		case typ == TypeInt64:
			for i := range updates {
				if !updates[i].Row[j].isInt() {
					return false
				}
			}
		case t == 0: // string or bytes: an empty one's tag, or bytes of its kind
			empty, kind := tagOf(typ), uint64(typ-TypeString) // the low bit of w: 1 for bytes
			for i := range updates {
				if d := &updates[i].Row[j]; d.p != empty && (!d.hasBytes() || d.w&1 != kind) {
					return false
				}
			}
		default:
			var diff uintptr // nonzero once a datum holds another tag
			for i := range updates {
				diff |= uintptr(updates[i].Row[j].p) ^ t
			}
			if diff != 0 {
				return false
			}
		}
	}
	return true
}

// rowMatches is batchMatches for one row.
func (s *rowShape) rowMatches(row Row) bool {
	if len(row) != len(s.types) {
		return false
	}
	for i := range row {
		if !row[i].is(s.types[i]) {
			return false
		}
	}
	return true
}
