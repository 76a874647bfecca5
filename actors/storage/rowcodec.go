package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/timely"
)

// A row is stored as a shard key: for each datum a type tag (the
// dataflow.Type, 0 for null) then its payload: one byte for a bool, eight
// big-endian bytes for int64, float64 and timestamp, a uvarint length and
// the bytes for string and bytes. The encoding is deterministic and equal
// rows (dataflow.Row.Equal) encode equally: floats are canonicalized (-0 as
// 0, one NaN), so the shard's consolidation by key agrees with the
// dataflow's by row.

// canonicalNaN is the bit pattern every NaN is stored as.
var canonicalNaN = math.Float64bits(math.NaN())

// appendRow appends the encoding of r to buf.
func appendRow(buf []byte, r dataflow.Row) []byte {
	for _, d := range r {
		buf = append(buf, byte(d.Type()))
		switch d.Type() {
		case dataflow.TypeBool:
			if d.AsBool() {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
		case dataflow.TypeInt64:
			buf = binary.BigEndian.AppendUint64(buf, uint64(d.AsInt64()))
		case dataflow.TypeFloat64:
			f := d.AsFloat64()
			bits := math.Float64bits(f)
			switch {
			case math.IsNaN(f):
				bits = canonicalNaN
			case f == 0:
				bits = 0
			}
			buf = binary.BigEndian.AppendUint64(buf, bits)
		case dataflow.TypeTimestamp:
			buf = binary.BigEndian.AppendUint64(buf, uint64(d.AsTimestamp()))
		case dataflow.TypeString:
			s := d.AsString()
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		case dataflow.TypeBytes:
			b := d.AsBytes()
			buf = binary.AppendUvarint(buf, uint64(len(b)))
			buf = append(buf, b...)
		}
	}
	return buf
}

// encodeRow returns the encoding of r.
func encodeRow(r dataflow.Row) []byte { return appendRow(make([]byte, 0, 10*len(r)), r) }

var errShortRow = errors.New("truncated row encoding")

// decodeRow decodes a row encoded by appendRow.
func decodeRow(b []byte) (dataflow.Row, error) {
	var r dataflow.Row
	for len(b) > 0 {
		tag := dataflow.Type(b[0])
		b = b[1:]
		if tag != 0 && !tag.Valid() {
			return nil, fmt.Errorf("datum %d: unknown type tag %d", len(r), tag)
		}
		var d dataflow.Datum
		switch tag {
		case 0:
			d = dataflow.Null()
		case dataflow.TypeBool:
			if len(b) < 1 {
				return nil, errShortRow
			}
			d, b = dataflow.Bool(b[0] == 1), b[1:]
		case dataflow.TypeInt64, dataflow.TypeFloat64, dataflow.TypeTimestamp:
			if len(b) < 8 {
				return nil, errShortRow
			}
			v := binary.BigEndian.Uint64(b)
			b = b[8:]
			switch tag {
			case dataflow.TypeInt64:
				d = dataflow.Int64(int64(v))
			case dataflow.TypeFloat64:
				d = dataflow.Float64(math.Float64frombits(v))
			default:
				d = dataflow.Timestamp(timely.Timestamp(v))
			}
		case dataflow.TypeString, dataflow.TypeBytes:
			n, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < n {
				return nil, errShortRow
			}
			s := b[k : k+int(n)]
			b = b[k+int(n):]
			if tag == dataflow.TypeString {
				d = dataflow.String(string(s))
			} else {
				d = dataflow.Bytes(s)
			}
		}
		r = append(r, d)
	}
	return r, nil
}
