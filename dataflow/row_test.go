package dataflow

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func TestDatumCompare(t *testing.T) {
	nan := Float64(math.NaN())
	tests := []struct {
		a, b Datum
		want int
	}{
		{Null(), Null(), 0},
		{Null(), Bool(false), -1},
		{Bool(false), Bool(true), -1},
		{Int64(-5), Int64(3), -1},
		{Int64(math.MinInt64), Int64(math.MaxInt64), -1},
		{Int64(3), Int64(3), 0},
		{Float64(-0.0), Float64(0), 0},
		{nan, nan, 0},
		{Float64(math.Inf(1)), nan, -1},
		{String("a"), String("b"), -1},
		{String("ab"), String("a"), 1},
		{Bytes([]byte{0}), Bytes(nil), 1},
		{Timestamp(5), Timestamp(9), -1},
		{Int64(100), Float64(1), -1}, // different types order by type
		{String("z"), Bytes([]byte("a")), -1},
	}
	for _, tt := range tests {
		if got := tt.a.Compare(tt.b); got != tt.want {
			t.Errorf("%s vs %s: got %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := tt.b.Compare(tt.a); got != -tt.want {
			t.Errorf("%s vs %s: antisymmetry broken: got %d", tt.b, tt.a, got)
		}
		if tt.want == 0 && (Row{tt.a}).Hash() != (Row{tt.b}).Hash() {
			t.Errorf("%s and %s are equal but hash differently", tt.a, tt.b)
		}
	}
}

func TestRowCompareEqualHash(t *testing.T) {
	seed := int64(42)
	r := rand.New(rand.NewSource(seed))
	g := &gen{r: r}
	s := Schema{{Type: TypeInt64, Nullable: true}, {Type: TypeString}}
	for i := 0; i < 2000; i++ {
		a, b := g.row(s), g.row(s)
		c := a.Compare(b)
		if (c == 0) != a.Equal(b) {
			t.Fatalf("seed %d: %s vs %s: Compare %d but Equal %v", seed, a, b, c, a.Equal(b))
		}
		if a.Equal(b) && a.Hash() != b.Hash() {
			t.Fatalf("seed %d: equal rows %s hash differently", seed, a)
		}
		if b.Compare(a) != -c {
			t.Fatalf("seed %d: %s vs %s: not antisymmetric", seed, a, b)
		}
	}
	if (Row{Int64(1)}).Compare(Row{Int64(1), Int64(0)}) != -1 {
		t.Fatal("a prefix must sort first")
	}
	if (Row{String("ab")}).Hash() == (Row{String("a"), String("b")}).Hash() {
		t.Fatal("hash must separate string boundaries")
	}
}

func TestSchemaValidate(t *testing.T) {
	s := Schema{{Name: "a", Type: TypeInt64}, {Name: "b", Type: TypeString, Nullable: true}}
	tests := []struct {
		row  Row
		want string
	}{
		{Row{Int64(1), String("x")}, ""},
		{Row{Int64(1), Null()}, ""},
		{Row{Int64(1)}, "has 1 columns, the schema has 2"},
		{Row{Null(), Null()}, `column "a" (#0) is not nullable`},
		{Row{Int64(1), Int64(2)}, `column "b" (#1) has type string but row (1, 2) has int64`},
	}
	for _, tt := range tests {
		err := s.Validate(tt.row)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.row, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidRow) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.row, err, tt.want)
		}
	}
	if _, err := (Schema{{Name: "x"}, {Name: "x"}}).Index("x"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ambiguous name: got %v", err)
	}
}

func TestWireRoundTrip(t *testing.T) {
	row := Row{Null(), Bool(true), Int64(-9), Float64(1.25), String("é"), Bytes([]byte{0, 255}), Timestamp(timely.Timestamp(77))}
	got, err := RowFromWire(RowToWire(row))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(row) {
		t.Fatalf("got %s, want %s", got, row)
	}
	for i := range row {
		if got[i].Type() != row[i].Type() {
			t.Fatalf("datum %d: type %s, want %s", i, got[i].Type(), row[i].Type())
		}
	}
	s := Schema{{Name: "a", Type: TypeTimestamp, Nullable: true}, {Name: "b", Type: TypeBytes}}
	gs, err := SchemaFromWire(SchemaToWire(s))
	if err != nil || len(gs) != 2 || gs[0] != s[0] || gs[1] != s[1] {
		t.Fatalf("schema round trip: %v %v", gs, err)
	}
}

func TestWireMalformed(t *testing.T) {
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"nil datum", func() error { _, err := DatumFromWire(nil); return err }, "datum is missing"},
		{"empty datum", func() error { _, err := DatumFromWire(&messages.Datum{}); return err }, "datum has no value"},
		{"nil row", func() error { _, err := RowFromWire(nil); return err }, "row is missing"},
		{"bad datum in row", func() error {
			_, err := RowFromWire(&messages.Row{Datums: []*messages.Datum{DatumToWire(Int64(1)), {}}})
			return err
		}, "datum 1 of row"},
		{"nil datum in row", func() error {
			_, err := RowFromWire(&messages.Row{Datums: []*messages.Datum{nil}})
			return err
		}, "datum 0 of row: malformed message: datum is missing"},
		{"unspecified type", func() error { _, err := TypeFromWire(messages.ScalarType_SCALAR_TYPE_UNSPECIFIED); return err }, "invalid scalar type"},
		{"unknown type", func() error { _, err := TypeFromWire(messages.ScalarType(42)); return err }, "invalid scalar type"},
		{"negative type", func() error { _, err := TypeFromWire(messages.ScalarType(-1)); return err }, "invalid scalar type"},
		{"nil schema", func() error { _, err := SchemaFromWire(nil); return err }, "schema is missing"},
		{"nil column", func() error { _, err := SchemaFromWire(&messages.Schema{Columns: []*messages.Column{nil}}); return err }, "column 0 of schema is missing"},
		{"column without type", func() error {
			_, err := SchemaFromWire(&messages.Schema{Columns: []*messages.Column{{Name: "a"}}})
			return err
		}, `column 0 ("a") of schema`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, messages.ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrMalformed containing %q", err, tt.want)
			}
		})
	}
}

func TestConsolidate(t *testing.T) {
	a, b := Row{Int64(1)}, Row{Int64(2)}
	tests := []struct {
		name string
		in   []Update
		want string
	}{
		{"empty", nil, "[]"},
		{"single zero dropped", []Update{{a, 1, 0}}, "[]"},
		{"sums equal pairs", []Update{{b, 1, 1}, {a, 1, 2}, {a, 1, 3}}, "[(1)@1x5 (2)@1x1]"},
		{"cancels", []Update{{a, 1, 1}, {b, 1, 1}, {a, 1, -1}}, "[(2)@1x1]"},
		{"cancels at the end", []Update{{a, 1, 1}, {b, 1, 1}, {b, 1, -1}}, "[(1)@1x1]"},
		{"orders by time first", []Update{{a, 2, 1}, {b, 1, 1}, {a, 1, -1}}, "[(1)@1x-1 (2)@1x1 (1)@2x1]"},
		{"cancel then more", []Update{{a, 1, 1}, {a, 1, -1}, {b, 1, 4}, {b, 2, 1}}, "[(2)@1x4 (2)@2x1]"},
	}
	for _, tt := range tests {
		out := Consolidate(append([]Update(nil), tt.in...))
		parts := make([]string, len(out))
		for i, u := range out {
			parts[i] = fmt.Sprintf("%s@%dx%d", u.Row, u.Time, u.Diff)
		}
		if got := "[" + strings.Join(parts, " ") + "]"; got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
	es := ConsolidateErrors([]ErrorUpdate{{"b", 1, 1}, {"a", 1, 1}, {"b", 1, -1}, {"a", 0, 2}})
	if fmt.Sprint(es) != "[{a 0 2} {a 1 1}]" {
		t.Errorf("errors: got %v", es)
	}
}
