package dataflow

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

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
//
// A datum is two words (16 bytes), so a row of five columns is 80 bytes
// and every row, arrangement entry and comparison touches half the memory
// a {type, bits, string} datum did (32 bytes):
//
//   - An int64 v is {nil, v ^ 1<<63} (intBias): no pointer, so the
//     collector skips it, and the biased word orders like v as an
//     unsigned number. Null is {nil, 0}, the zero value; the one int64
//     whose biased word is 0, math.MinInt64, is {&datumTags[TypeInt64], 0}.
//   - A bool, float64 or timestamp, or an empty string or bytes value, is
//     {&datumTags[type], bits}: p points into a static array, so the type
//     is p's offset in it. w holds the bits (0/1 for a bool, 0 for an
//     empty string or bytes).
//   - A non-empty string or bytes value is {its first byte, its length
//     shifted left by one, with the low bit set for bytes}.
//
// Every pointer the collector must look at costs it a lookup, so the most
// common type carries none (a pointer to a static tag in every int64
// more than doubled the collector's marking in q0, which keeps every bid).
//
// Every datum of a value has one representation except non-empty strings
// (two copies of one text have different pointers), so datums are not
// comparable with ==: the zero-length func array makes == a compile error.
// Use Equal or Compare.
type Datum struct {
	_ [0]func() // not comparable: equal strings may point at different bytes
	p unsafe.Pointer
	w uint64
}

// datumTags are the addresses that mark a datum's type: a datum of type t
// that holds no string bytes points at datumTags[t].
var datumTags [8]byte

// tagOf returns the address marking type t.
func tagOf(t Type) unsafe.Pointer { return unsafe.Pointer(&datumTags[t]) }

// intBias is xored into an int64's bits to make its word: it is not 0 for
// any int64 but math.MinInt64, and it orders like the int64 as a uint64.
const intBias = 1 << 63

// Null returns the null datum.
func Null() Datum { return Datum{} }

// Bool returns a bool datum.
func Bool(b bool) Datum {
	d := Datum{p: tagOf(TypeBool)}
	if b {
		d.w = 1
	}
	return d
}

// Int64 returns an int64 datum.
func Int64(i int64) Datum {
	if w := uint64(i) ^ intBias; w != 0 {
		return Datum{w: w}
	}
	return Datum{p: tagOf(TypeInt64)}
}

// Float64 returns a float64 datum.
func Float64(f float64) Datum { return Datum{p: tagOf(TypeFloat64), w: math.Float64bits(f)} }

// String returns a string datum. It keeps s's bytes (strings are immutable).
func String(s string) Datum {
	if len(s) == 0 {
		return Datum{p: tagOf(TypeString)}
	}
	return Datum{p: unsafe.Pointer(unsafe.StringData(s)), w: uint64(len(s)) << 1}
}

// Bytes returns a bytes datum holding a copy of b.
func Bytes(b []byte) Datum { return bytesOf(string(b)) }

// bytesOf returns a bytes datum holding s's bytes.
func bytesOf(s string) Datum {
	if len(s) == 0 {
		return Datum{p: tagOf(TypeBytes)}
	}
	return Datum{p: unsafe.Pointer(unsafe.StringData(s)), w: uint64(len(s))<<1 | 1}
}

// Timestamp returns a timestamp datum (milliseconds, like timely.Timestamp).
func Timestamp(t timely.Timestamp) Datum { return Datum{p: tagOf(TypeTimestamp), w: uint64(t)} }

// IsNull reports whether d is null.
func (d Datum) IsNull() bool { return d.p == nil && d.w == 0 }

// Type returns the datum's type; it is 0 (not Valid) for null.
func (d Datum) Type() Type {
	if d.p == nil {
		if d.w == 0 {
			return 0
		}
		return TypeInt64
	}
	if off := uintptr(d.p) - uintptr(unsafe.Pointer(&datumTags)); off < uintptr(len(datumTags)) {
		return Type(off)
	}
	return TypeString + Type(d.w&1) // TypeBytes follows TypeString
}

// is reports whether d has type t (t valid), with one comparison when t
// is a bool, float64 or timestamp.
func (d Datum) is(t Type) bool {
	switch t {
	case TypeInt64:
		return d.isInt()
	case TypeString, TypeBytes:
		return d.Type() == t
	}
	return d.p == tagOf(t)
}

// isInt reports whether d is an int64 datum.
func (d Datum) isInt() bool { return (d.p == nil && d.w != 0) || d.p == tagOf(TypeInt64) }

// int returns the value of an int64 datum (meaningless for another).
func (d Datum) int() int64 { return int64(d.w ^ intBias) }

// word returns the bits of a bool, int64, float64 or timestamp datum (0
// for null; meaningless for strings and bytes).
func (d Datum) word() uint64 {
	if d.isInt() {
		return d.w ^ intBias
	}
	return d.w
}

// str returns the value of a string or bytes datum; "" for any other.
func (d Datum) str() string {
	if !d.hasBytes() {
		return ""
	}
	return unsafe.String((*byte)(d.p), int(d.w>>1))
}

// AsBool returns the value of a bool datum; false for any other datum.
func (d Datum) AsBool() bool { return d.p == tagOf(TypeBool) && d.w == 1 }

// AsInt64 returns the value of an int64 datum; 0 for any other datum.
func (d Datum) AsInt64() int64 {
	if !d.isInt() {
		return 0
	}
	return d.int()
}

// AsFloat64 returns the value of a float64 datum, or an int64 datum
// converted; 0 for any other datum.
func (d Datum) AsFloat64() float64 {
	switch {
	case d.p == tagOf(TypeFloat64):
		return math.Float64frombits(d.w)
	case d.isInt():
		return float64(d.int())
	}
	return 0
}

// AsString returns the value of a string or bytes datum; "" otherwise.
func (d Datum) AsString() string { return d.str() }

// AsBytes returns a copy of the value of a bytes or string datum.
func (d Datum) AsBytes() []byte { return []byte(d.str()) }

// AsTimestamp returns the value of a timestamp datum; 0 otherwise.
func (d Datum) AsTimestamp() timely.Timestamp {
	if d.p != tagOf(TypeTimestamp) {
		return 0
	}
	return timely.Timestamp(d.w)
}

// Compare orders datums totally: null first, then by type, then by value.
// Floats order numerically with -0 equal to 0 and NaN equal to itself and
// greater than every other float. It returns -1, 0 or +1.
func (d Datum) Compare(e Datum) int {
	dt, et := d.Type(), e.Type()
	if dt != et {
		if dt < et {
			return -1
		}
		return 1
	}
	switch dt {
	case 0:
		return 0
	case TypeBool, TypeTimestamp, TypeInt64:
		return cmpUint(d.w, e.w) // an int64's word orders like it
	case TypeFloat64:
		return compareFloat(math.Float64frombits(d.w), math.Float64frombits(e.w))
	default:
		return strings.Compare(d.str(), e.str())
	}
}

// Equal reports whether Compare returns 0.
func (d Datum) Equal(e Datum) bool {
	if d.p == e.p {
		// One type (or both null), or strings at the same bytes: equal
		// bits are equal values, and only floats have equal values with
		// different bits.
		return d.w == e.w || (d.p == tagOf(TypeFloat64) && compareFloat(math.Float64frombits(d.w), math.Float64frombits(e.w)) == 0)
	}
	// Different types, or two non-empty strings (or bytes) at different
	// addresses: equal when kind, length and bytes are.
	return d.w == e.w && d.hasBytes() && e.hasBytes() && d.str() == e.str()
}

// hasBytes reports whether d is a non-empty string or bytes datum (p
// points at its bytes).
func (d Datum) hasBytes() bool {
	return d.p != nil && uintptr(d.p)-uintptr(unsafe.Pointer(&datumTags)) >= uintptr(len(datumTags))
}

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
	h = fnvByte(h, byte(d.Type()))
	switch d.Type() {
	case 0:
	case TypeFloat64:
		f := math.Float64frombits(d.w)
		switch {
		case math.IsNaN(f):
			h = fnvUint(h, 0x7ff8000000000001)
		case f == 0:
			h = fnvUint(h, 0)
		default:
			h = fnvUint(h, d.word())
		}
	case TypeString, TypeBytes:
		s := d.str()
		for i := 0; i < len(s); i++ {
			h = fnvByte(h, s[i])
		}
		h = fnvUint(h, uint64(len(s)))
	default:
		h = fnvUint(h, d.word())
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
	switch d.Type() {
	case 0:
		return "NULL"
	case TypeBool:
		return strconv.FormatBool(d.w == 1)
	case TypeInt64:
		return strconv.FormatInt(d.int(), 10)
	case TypeFloat64:
		return strconv.FormatFloat(math.Float64frombits(d.w), 'g', -1, 64)
	case TypeString:
		return strconv.Quote(d.str())
	case TypeBytes:
		return fmt.Sprintf("\\x%x", d.str())
	case TypeTimestamp:
		return "ts:" + strconv.FormatUint(d.w, 10)
	}
	return "?"
}
