package dataflow

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/arbor-db/arbor/timely"
)

// The append-only index against a map, with hashes forced to collide (a
// handful of distinct hashes for thousands of keys) and the table and the
// record arena growing many times, for each layout: a key held in the slot
// (one int column) or kept aside (two columns, a string), rows packed
// (fixed-width columns, some null) or kept as rows (a string column).
func TestAppendIndexMatchesMap(t *testing.T) {
	cases := []struct {
		name           string
		schema         Schema
		key            []int
		inline, packed bool
	}{
		{"inline key, packed", Schema{{Name: "k", Type: TypeInt64}, {Name: "v", Type: TypeInt64, Nullable: true}, {Name: "f", Type: TypeFloat64}}, []int{0}, true, true},
		{"timestamp key, packed", Schema{{Name: "v", Type: TypeBool}, {Name: "k", Type: TypeTimestamp}}, []int{1}, true, true},
		{"two-column key, packed", Schema{{Name: "k", Type: TypeInt64}, {Name: "v", Type: TypeInt64}}, []int{1, 0}, false, true},
		{"string key, boxed", Schema{{Name: "k", Type: TypeString}, {Name: "v", Type: TypeInt64}}, []int{0}, false, false},
		{"inline key, boxed", Schema{{Name: "k", Type: TypeInt64}, {Name: "s", Type: TypeString, Nullable: true}}, []int{0}, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seed := int64(1)
			r := rand.New(rand.NewSource(seed))
			x := newAppendIndex(c.schema, c.key)
			if x.t.inline != c.inline || x.packed != c.packed {
				t.Fatalf("inline %v packed %v, want %v %v", x.t.inline, x.packed, c.inline, c.packed)
			}
			model := map[string][]rowDiff{}
			keyOf := func(k int64) string { return fmt.Sprint(k) }
			// rowFor builds a row of the schema whose key columns hold k.
			rowFor := func(k int64, i int) Row {
				row := make(Row, len(c.schema))
				for j, col := range c.schema {
					switch col.Type {
					case TypeInt64:
						row[j] = Int64(int64(i))
					case TypeFloat64:
						row[j] = Float64(float64(i) / 3)
					case TypeBool:
						row[j] = Bool(i%2 == 0)
					case TypeTimestamp:
						row[j] = Timestamp(timely.Timestamp(i))
					case TypeString:
						row[j] = String(fmt.Sprint("s", i))
					}
					if col.Nullable && i%7 == 0 {
						row[j] = Null()
					}
				}
				for _, kc := range c.key {
					switch c.schema[kc].Type {
					case TypeInt64:
						row[kc] = Int64(k)
					case TypeTimestamp:
						row[kc] = Timestamp(timely.Timestamp(k))
					case TypeString:
						row[kc] = String(keyOf(k))
					}
				}
				return row
			}
			ref := func(row Row) keyRef {
				return keyRef{hash: uint64(len(row[c.key[0]].String()) % 5), src: row, cols: c.key} // five hashes in all
			}
			const n = 40000 // records of up to 6 words: several arena chunks
			for i := 0; i < n; i++ {
				k := int64(r.Intn(3000))
				row := rowFor(k, i)
				diff := int64(1 + r.Intn(3))
				x.insert(ref(row), row, diff)
				model[keyOf(k)] = append(model[keyOf(k)], rowDiff{row: row, diff: diff})
			}
			if int(x.t.n) != len(model) || x.rows != n {
				t.Fatalf("seed %d: %d keys and %d rows, want %d and %d", seed, x.t.n, x.rows, len(model), n)
			}
			if x.packed && len(x.words) < 2 {
				t.Fatalf("the arena has %d chunks, want several", len(x.words))
			}
			for k := int64(-5); k < 3005; k++ {
				var got []rowDiff
				probe := rowFor(k, 1)
				for a := x.lookup(ref(probe)); a != 0; a = x.next(a) {
					row := make(Row, x.width())
					x.fill(row, a)
					got = append(got, rowDiff{row: row, diff: x.diff(a)})
				}
				slices.Reverse(got) // newest first
				want := model[keyOf(k)]
				if len(got) != len(want) {
					t.Fatalf("seed %d: key %d has %d rows, want %d", seed, k, len(got), len(want))
				}
				for i := range got {
					if !got[i].row.Equal(want[i].row) || got[i].diff != want[i].diff {
						t.Fatalf("seed %d: key %d row %d is %v, want %v", seed, k, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// Two indexes sharing one table, as a join stage's sides do: each side
// sees only its own rows, and a key inserted into one side only is found
// in the table but has no rows on the other.
func TestAppendSidesShareTable(t *testing.T) {
	seed := int64(2)
	r := rand.New(rand.NewSource(seed))
	schemas := [2]Schema{
		{{Name: "k", Type: TypeInt64}, {Name: "v", Type: TypeInt64}},
		{{Name: "x", Type: TypeString}, {Name: "k", Type: TypeInt64}},
	}
	keys := [2][]int{{0}, {1}}
	tab := newAppendTable(schemas[0], keys[0])
	sides := [2]*appendIndex{newAppendSide(tab, 0, schemas[0]), newAppendSide(tab, 1, schemas[1])}
	models := [2]map[int64][]rowDiff{{}, {}}
	for i := 0; i < 20000; i++ {
		s, k := r.Intn(2), int64(r.Intn(2000))
		row := Row{Int64(k), Int64(int64(i))}
		if s == 1 {
			row = Row{String(fmt.Sprint(i)), Int64(k)}
		}
		sides[s].insert(keyRef{hash: uint64(k % 7), src: row, cols: keys[s]}, row, 1)
		models[s][k] = append(models[s][k], rowDiff{row: row, diff: 1})
	}
	for s := range sides {
		for k := int64(0); k < 2000; k++ {
			probe := Row{Int64(k)}
			var got []Row
			for a := sides[s].lookup(keyRef{hash: uint64(k % 7), src: probe, cols: []int{0}}); a != 0; a = sides[s].next(a) {
				row := make(Row, sides[s].width())
				sides[s].fill(row, a)
				got = append(got, row)
			}
			slices.Reverse(got)
			want := models[s][k]
			if len(got) != len(want) {
				t.Fatalf("seed %d: side %d key %d has %d rows, want %d", seed, s, k, len(got), len(want))
			}
			for i := range got {
				if !got[i].Equal(want[i].row) {
					t.Fatalf("seed %d: side %d key %d row %d is %v, want %v", seed, s, k, i, got[i], want[i].row)
				}
			}
		}
	}
}
