package dataflow_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

func randomKeyDatum(r *rand.Rand) dataflow.Datum {
	switch r.IntN(7) {
	case 0:
		return dataflow.Null()
	case 1:
		return dataflow.Bool(r.IntN(2) == 1)
	case 2:
		return dataflow.Int64(int64(r.Uint64()))
	case 3:
		return dataflow.Float64([]float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), -1.5, r.NormFloat64()}[r.IntN(6)])
	case 4:
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return dataflow.String(string(b))
	case 5:
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return dataflow.Bytes(b)
	default:
		return dataflow.Timestamp(timely.Timestamp(r.Uint64()))
	}
}

func TestRowCodecRoundTripAndEquality(t *testing.T) {
	seed := uint64(rand.Int64())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	var prev dataflow.Row
	for i := 0; i < 5000; i++ {
		row := make(dataflow.Row, r.IntN(6)+1)
		for j := range row {
			row[j] = randomKeyDatum(r)
		}
		enc := dataflow.EncodeRowKey(row)
		got, err := dataflow.DecodeRowKey(enc)
		if err != nil {
			t.Fatalf("decode %s: %v", row, err)
		}
		if !got.Equal(row) {
			t.Fatalf("round trip %s -> %s", row, got)
		}
		// Equal rows encode equally, different rows differently.
		if prev != nil && prev.Equal(row) != bytes.Equal(dataflow.EncodeRowKey(prev), enc) {
			t.Fatalf("%s vs %s: Equal %v but encodings equal %v", prev, row, prev.Equal(row), bytes.Equal(dataflow.EncodeRowKey(prev), enc))
		}
		prev = row
	}
}

func TestRowCodecCanonicalFloats(t *testing.T) {
	neg := dataflow.EncodeRowKey(dataflow.Row{dataflow.Float64(math.Copysign(0, -1))})
	pos := dataflow.EncodeRowKey(dataflow.Row{dataflow.Float64(0)})
	if !bytes.Equal(neg, pos) {
		t.Fatal("-0 and 0 encode differently")
	}
	a := dataflow.EncodeRowKey(dataflow.Row{dataflow.Float64(math.NaN())})
	b := dataflow.EncodeRowKey(dataflow.Row{dataflow.Float64(math.Float64frombits(0x7ff8000000000001))})
	if !bytes.Equal(a, b) {
		t.Fatal("two NaNs encode differently")
	}
}

func TestRowCodecRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{
		{99},                          // unknown tag
		{byte(dataflow.TypeInt64), 1}, // short int
		{byte(dataflow.TypeString), 5, 'a'},
		{byte(dataflow.TypeBool)},
	} {
		if _, err := dataflow.DecodeRowKey(b); err == nil {
			t.Errorf("DecodeRowKey(%x) succeeded", b)
		}
	}
}
