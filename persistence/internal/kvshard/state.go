package kvshard

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/arbor-db/arbor/timely"
)

// state is one consistent read of a shard: its frontiers and some of its
// batches, in lower order.
type state struct {
	upper, since timely.Frontier
	batches      []storedBatch
}

type storedBatch struct {
	key   []byte
	lower timely.Timestamp
	size  int // encoded bytes
	batch
}

// readState reads the upper, the since and the batches in r from one
// consistent state of the backend.
func (s *shard) readState(ctx context.Context, op string, r Range) (state, error) {
	st, _, err := s.readStateWith(ctx, op, r)
	return st, err
}

// readStateWith is readState that also reads the extra ranges, from the
// same consistent state, and returns their pairs undecoded.
func (s *shard) readStateWith(ctx context.Context, op string, r Range, extra ...Range) (state, [][]KeyValue, error) {
	upperKey, sinceKey := s.keys.Upper(), s.keys.Since()
	res, err := s.store.kv.Read(ctx, append([]Range{single(upperKey), single(sinceKey), r}, extra...))
	if err != nil {
		return state{}, nil, s.errorf(op, err)
	}
	st, err := s.decodeState(res)
	if err != nil {
		return state{}, nil, err
	}
	return st, res[3:], nil
}

// decodeState decodes the upper, the since and the batches of a read whose
// first three ranges are those of readStateWith.
func (s *shard) decodeState(res [][]KeyValue) (state, error) {
	upperKey, sinceKey := s.keys.Upper(), s.keys.Since()
	var err error
	var st state
	if st.upper, err = s.decodeMeta(upperKey, value(res[0])); err != nil {
		return state{}, err
	}
	if st.since, err = s.decodeMeta(sinceKey, value(res[1])); err != nil {
		return state{}, err
	}
	for _, kv := range res[2] {
		lower, err := s.keys.parseBatchKey(kv.Key)
		if err != nil {
			return state{}, s.corrupt(kv.Key, err)
		}
		b, err := decodeBatch(kv.Value)
		if err != nil {
			return state{}, s.corrupt(kv.Key, err)
		}
		st.batches = append(st.batches, storedBatch{key: kv.Key, lower: lower, size: len(kv.Value), batch: b})
	}
	return st, nil
}

// parseBatchKey returns the lower a batch key names.
func (k Keys) parseBatchKey(key []byte) (timely.Timestamp, error) {
	rest, ok := strings.CutPrefix(string(key), k.prefix+"batch/")
	if !ok || len(rest) != 16 {
		return 0, errors.New("not a batch key")
	}
	raw, err := hex.DecodeString(rest)
	if err != nil {
		return 0, fmt.Errorf("batch key: %w", err)
	}
	var t uint64
	for _, c := range raw {
		t = t<<8 | uint64(c)
	}
	return timely.Timestamp(t), nil
}

// advance returns t advanced by since: max(t, since). A closed since has no
// time; callers refuse reads before they get here.
func advance(t timely.Timestamp, since timely.Frontier) timely.Timestamp {
	if s, ok := since.Time(); ok && t < s {
		return s
	}
	return t
}
