package dataflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/arbor-db/arbor/timely"
)

// A row is stored as a shard key: for each datum a type tag (the
// Type, 0 for null) then its payload: one byte for a bool, eight
// big-endian bytes for int64, float64 and timestamp, a uvarint length and
// the bytes for string and bytes. The encoding is deterministic and equal
// rows (Row.Equal) encode equally: floats are canonicalized (-0 as
// 0, one NaN), so the shard's consolidation by key agrees with the
// dataflow's by row.

// canonicalNaN is the bit pattern every NaN is stored as.
var canonicalNaN = math.Float64bits(math.NaN())

// AppendRowKey appends the row key of r to buf.
func AppendRowKey(buf []byte, r Row) []byte {
	for _, d := range r {
		buf = append(buf, byte(d.Type()))
		switch d.Type() {
		case TypeBool:
			if d.AsBool() {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
		case TypeInt64:
			buf = binary.BigEndian.AppendUint64(buf, uint64(d.AsInt64()))
		case TypeFloat64:
			f := d.AsFloat64()
			bits := math.Float64bits(f)
			switch {
			case math.IsNaN(f):
				bits = canonicalNaN
			case f == 0:
				bits = 0
			}
			buf = binary.BigEndian.AppendUint64(buf, bits)
		case TypeTimestamp:
			buf = binary.BigEndian.AppendUint64(buf, uint64(d.AsTimestamp()))
		case TypeString, TypeBytes:
			s := d.AsString() // both hold their value as a string; no copy
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
	}
	return buf
}

// EncodeRowKey returns the row key of r. Rows equal under Row.Equal get
// equal keys, and different rows different keys.
func EncodeRowKey(r Row) []byte { return AppendRowKey(make([]byte, 0, 10*len(r)), r) }

var errShortRow = errors.New("truncated row key")

// DecodeRowKey decodes a row key. Malformed bytes (an unknown type tag, a
// truncated payload) are an error naming the datum, never a panic.
func DecodeRowKey(b []byte) (Row, error) {
	var r Row
	for len(b) > 0 {
		tag := Type(b[0])
		b = b[1:]
		if tag != 0 && !tag.Valid() {
			return nil, fmt.Errorf("datum %d: unknown type tag %d", len(r), tag)
		}
		var d Datum
		switch tag {
		case 0:
			d = Null()
		case TypeBool:
			if len(b) < 1 {
				return nil, errShortRow
			}
			d, b = Bool(b[0] == 1), b[1:]
		case TypeInt64, TypeFloat64, TypeTimestamp:
			if len(b) < 8 {
				return nil, errShortRow
			}
			v := binary.BigEndian.Uint64(b)
			b = b[8:]
			switch tag {
			case TypeInt64:
				d = Int64(int64(v))
			case TypeFloat64:
				d = Float64(math.Float64frombits(v))
			default:
				d = Timestamp(timely.Timestamp(v))
			}
		case TypeString, TypeBytes:
			n, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < n {
				return nil, errShortRow
			}
			s := b[k : k+int(n)]
			b = b[k+int(n):]
			if tag == TypeString {
				d = String(string(s))
			} else {
				d = Bytes(s)
			}
		}
		r = append(r, d)
	}
	return r, nil
}
