package kvshard

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// Frontier encoding: one tag byte, then for tagAt the time as 8 bytes
// big-endian.
const (
	tagAt     byte = 'T'
	tagClosed byte = 'C'
)

// batchVersion is the first byte of every encoded batch.
const batchVersion byte = 1

func encodeFrontier(f timely.Frontier) []byte {
	t, ok := f.Time()
	if !ok {
		return []byte{tagClosed}
	}
	return binary.BigEndian.AppendUint64([]byte{tagAt}, uint64(t))
}

func decodeFrontier(b []byte) (timely.Frontier, error) {
	switch {
	case len(b) == 1 && b[0] == tagClosed:
		return timely.Closed(), nil
	case len(b) == 9 && b[0] == tagAt:
		return timely.At(timely.Timestamp(binary.BigEndian.Uint64(b[1:]))), nil
	default:
		return timely.Frontier{}, fmt.Errorf("frontier: %d bytes, want 1 or 9 with tag %q or %q", len(b), tagClosed, tagAt)
	}
}

// encodeTime is the value of an end key (the batch's lower) and of the
// indexed key: 8 bytes big-endian.
func encodeTime(t timely.Timestamp) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t))
}

func decodeTime(b []byte) (timely.Timestamp, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("time: %d bytes, want 8", len(b))
	}
	return timely.Timestamp(binary.BigEndian.Uint64(b)), nil
}

// batch is one stored append.
type batch struct {
	upper   timely.Frontier
	updates []persistence.Update
}

// encodeBatch: version, frontier (1 or 9 bytes), uvarint count, then per
// update uvarint len(key), key, uvarint len(value), value, uvarint ts,
// varint diff.
func encodeBatch(b batch) []byte {
	out := []byte{batchVersion}
	out = append(out, encodeFrontier(b.upper)...)
	out = binary.AppendUvarint(out, uint64(len(b.updates)))
	for _, u := range b.updates {
		out = binary.AppendUvarint(out, uint64(len(u.Key)))
		out = append(out, u.Key...)
		out = binary.AppendUvarint(out, uint64(len(u.Value)))
		out = append(out, u.Value...)
		out = binary.AppendUvarint(out, uint64(u.Ts))
		out = binary.AppendVarint(out, u.Diff)
	}
	return out
}

var errTruncated = errors.New("truncated")

// decodeBatch never panics on bad input; the updates alias b.
func decodeBatch(b []byte) (batch, error) {
	if len(b) == 0 || b[0] != batchVersion {
		return batch{}, fmt.Errorf("batch: unknown version (want %d)", batchVersion)
	}
	b = b[1:]
	n := 9
	if len(b) > 0 && b[0] == tagClosed {
		n = 1
	}
	if len(b) < n {
		return batch{}, fmt.Errorf("batch upper: %w", errTruncated)
	}
	upper, err := decodeFrontier(b[:n])
	if err != nil {
		return batch{}, fmt.Errorf("batch upper: %w", err)
	}
	b = b[n:]
	count, b, err := uvarint(b)
	if err != nil {
		return batch{}, fmt.Errorf("batch count: %w", err)
	}
	// Each update takes at least 4 bytes; refuse counts the input cannot
	// hold before allocating for them.
	if count > uint64(len(b))/4 {
		return batch{}, fmt.Errorf("batch count %d: %w", count, errTruncated)
	}
	out := batch{upper: upper, updates: make([]persistence.Update, 0, count)}
	for i := range count {
		var u persistence.Update
		if u.Key, b, err = bytesField(b); err != nil {
			return batch{}, fmt.Errorf("update %d key: %w", i, err)
		}
		if u.Value, b, err = bytesField(b); err != nil {
			return batch{}, fmt.Errorf("update %d value: %w", i, err)
		}
		var ts uint64
		if ts, b, err = uvarint(b); err != nil {
			return batch{}, fmt.Errorf("update %d ts: %w", i, err)
		}
		u.Ts = timely.Timestamp(ts)
		d, n := binary.Varint(b)
		if n <= 0 {
			return batch{}, fmt.Errorf("update %d diff: %w", i, errTruncated)
		}
		u.Diff, b = d, b[n:]
		out.updates = append(out.updates, u)
	}
	if len(b) != 0 {
		return batch{}, fmt.Errorf("batch: %d trailing bytes", len(b))
	}
	return out, nil
}

func uvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, b, errTruncated
	}
	return v, b[n:], nil
}

func bytesField(b []byte) ([]byte, []byte, error) {
	n, b, err := uvarint(b)
	if err != nil {
		return nil, b, err
	}
	if n > uint64(len(b)) {
		return nil, b, errTruncated
	}
	if n == 0 {
		return nil, b, nil // empty and nil are one value; keep nil
	}
	return b[:n:n], b[n:], nil
}
