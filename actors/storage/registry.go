package storage

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/timely"
)

// decodeRecord decodes one registry entry.
func decodeRecord(e persistence.Update) (TableInfo, error) {
	corrupt := func(err error) error {
		return &persistence.CorruptError{Shard: RegistryShard, Key: string(e.Key), Err: err}
	}
	if e.Diff != 1 {
		return TableInfo{}, corrupt(fmt.Errorf("entry has multiplicity %d", e.Diff))
	}
	var rec messages.StorageTableRecord
	if err := proto.Unmarshal(e.Value, &rec); err != nil {
		return TableInfo{}, corrupt(err)
	}
	id, err := rec.Table.ToTimely()
	if err != nil {
		return TableInfo{}, corrupt(err)
	}
	schema, err := dataflow.SchemaFromWire(rec.Schema)
	if err != nil {
		return TableInfo{}, corrupt(err)
	}
	return TableInfo{Id: id, Schema: schema, Dropped: rec.Dropped, Collection: rec.Collection, AppendOnly: rec.AppendOnly}, nil
}

// encodeRecord encodes a table's registry entry deterministically (its
// since and upper are not part of it).
func encodeRecord(t TableInfo) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&messages.StorageTableRecord{
		Table: messages.FromGlobalId(t.Id), Schema: dataflow.SchemaToWire(t.Schema), Dropped: t.Dropped, Collection: t.Collection,
		AppendOnly: t.AppendOnly,
	})
	if err != nil {
		panic(fmt.Sprintf("storage: encode table record: %v", err))
	}
	return b
}

// writeRegistry appends one change to the registry at its next version,
// for operation op ("drop table u3").
func (sh *shards) writeRegistry(ctx context.Context, op string, ups []persistence.Update) error {
	t, ok := sh.registryUpper.Time()
	if !ok {
		return fmt.Errorf("%w: %s: the table registry is closed", ErrBackend, op)
	}
	next := timely.At(t + 1)
	for i := range ups {
		ups[i].Ts = t
	}
	if err := sh.registry.CompareAndAppend(ctx, ups, sh.registryUpper, next); err != nil {
		return backendError(ctx, sh.timeout, op+": write the table registry", err)
	}
	sh.registryUpper = next
	return nil
}
