package dataflow

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/arbor-db/arbor/timely"
)

// Type is the type of a column or of a non-null datum.
type Type uint8

// The scalar types. Their order is the order of datums of different types
// (null sorts before every type).
const (
	TypeBool Type = iota + 1
	TypeInt64
	TypeFloat64
	TypeString
	TypeBytes
	TypeTimestamp
)

// Valid reports whether t is one of the scalar types.
func (t Type) Valid() bool { return t >= TypeBool && t <= TypeTimestamp }

// String returns the type's name as used in error messages.
func (t Type) String() string {
	switch t {
	case TypeBool:
		return "bool"
	case TypeInt64:
		return "int64"
	case TypeFloat64:
		return "float64"
	case TypeString:
		return "string"
	case TypeBytes:
		return "bytes"
	case TypeTimestamp:
		return "timestamp"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Datum is one value: null, or a value of one scalar type. The zero value is
// null. Datums are immutable values; copy them freely.
type Datum struct {
	typ  Type   // 0 for null
	bits uint64 // bool (0/1), int64, float64 bits, timestamp
	str  string // string and bytes
}

// Null returns the null datum.
func Null() Datum { return Datum{} }

// Bool returns a bool datum.
func Bool(b bool) Datum {
	d := Datum{typ: TypeBool}
	if b {
		d.bits = 1
	}
	return d
}

// Int64 returns an int64 datum.
func Int64(i int64) Datum { return Datum{typ: TypeInt64, bits: uint64(i)} }

// Float64 returns a float64 datum.
func Float64(f float64) Datum { return Datum{typ: TypeFloat64, bits: math.Float64bits(f)} }

// String returns a string datum.
func String(s string) Datum { return Datum{typ: TypeString, str: s} }

// Bytes returns a bytes datum holding a copy of b.
func Bytes(b []byte) Datum { return Datum{typ: TypeBytes, str: string(b)} }

// Timestamp returns a timestamp datum (milliseconds, like timely.Timestamp).
func Timestamp(t timely.Timestamp) Datum { return Datum{typ: TypeTimestamp, bits: uint64(t)} }

// IsNull reports whether d is null.
func (d Datum) IsNull() bool { return d.typ == 0 }

// Type returns the datum's type; it is 0 (not Valid) for null.
func (d Datum) Type() Type { return d.typ }

// AsBool returns the value of a bool datum; false for any other datum.
func (d Datum) AsBool() bool { return d.typ == TypeBool && d.bits == 1 }

// AsInt64 returns the value of an int64 datum; 0 for any other datum.
func (d Datum) AsInt64() int64 {
	if d.typ != TypeInt64 {
		return 0
	}
	return int64(d.bits)
}

// AsFloat64 returns the value of a float64 datum, or an int64 datum
// converted; 0 for any other datum.
func (d Datum) AsFloat64() float64 {
	switch d.typ {
	case TypeFloat64:
		return math.Float64frombits(d.bits)
	case TypeInt64:
		return float64(int64(d.bits))
	}
	return 0
}

// AsString returns the value of a string or bytes datum; "" otherwise.
func (d Datum) AsString() string { return d.str }

// AsBytes returns a copy of the value of a bytes or string datum.
func (d Datum) AsBytes() []byte { return []byte(d.str) }

// AsTimestamp returns the value of a timestamp datum; 0 otherwise.
func (d Datum) AsTimestamp() timely.Timestamp {
	if d.typ != TypeTimestamp {
		return 0
	}
	return timely.Timestamp(d.bits)
}

// Compare orders datums totally: null first, then by type, then by value.
// Floats order numerically with -0 equal to 0 and NaN equal to itself and
// greater than every other float. It returns -1, 0 or +1.
func (d Datum) Compare(e Datum) int {
	if d.typ != e.typ {
		if d.typ < e.typ {
			return -1
		}
		return 1
	}
	switch d.typ {
	case 0:
		return 0
	case TypeBool, TypeTimestamp:
		return cmpUint(d.bits, e.bits)
	case TypeInt64:
		a, b := int64(d.bits), int64(e.bits)
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	case TypeFloat64:
		return compareFloat(math.Float64frombits(d.bits), math.Float64frombits(e.bits))
	default:
		return strings.Compare(d.str, e.str)
	}
}

// Equal reports whether Compare returns 0.
func (d Datum) Equal(e Datum) bool { return d.Compare(e) == 0 }

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareFloat(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// hash mixes the datum into h (FNV-1a), consistently with Equal.
func (d Datum) hash(h uint64) uint64 {
	h = fnvByte(h, byte(d.typ))
	switch d.typ {
	case 0:
	case TypeFloat64:
		f := math.Float64frombits(d.bits)
		switch {
		case math.IsNaN(f):
			h = fnvUint(h, 0x7ff8000000000001)
		case f == 0:
			h = fnvUint(h, 0)
		default:
			h = fnvUint(h, d.bits)
		}
	case TypeString, TypeBytes:
		for i := 0; i < len(d.str); i++ {
			h = fnvByte(h, d.str[i])
		}
		h = fnvUint(h, uint64(len(d.str)))
	default:
		h = fnvUint(h, d.bits)
	}
	return h
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func fnvUint(h uint64, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h = fnvByte(h, byte(v>>(8*i)))
	}
	return h
}

// String prints the datum for humans and error messages: NULL, true, 42,
// 1.5, "text" (quoted), \x0a0b for bytes, ts:123 for timestamps.
func (d Datum) String() string {
	switch d.typ {
	case 0:
		return "NULL"
	case TypeBool:
		return strconv.FormatBool(d.bits == 1)
	case TypeInt64:
		return strconv.FormatInt(int64(d.bits), 10)
	case TypeFloat64:
		return strconv.FormatFloat(math.Float64frombits(d.bits), 'g', -1, 64)
	case TypeString:
		return strconv.Quote(d.str)
	case TypeBytes:
		return fmt.Sprintf("\\x%x", d.str)
	case TypeTimestamp:
		return "ts:" + strconv.FormatUint(d.bits, 10)
	}
	return "?"
}
