package runtime

import (
	"fmt"

	"github.com/arbor-db/arbor/actors/pool"
	"github.com/arbor-db/arbor/dataflow"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

// FlowIdOf is the flow id of the flow exporting a collection: the id's
// kind in the top byte, its value below. It is stable across restarts, so
// committed checkpoints find their flow again.
func FlowIdOf(export timely.GlobalId) pool.FlowId {
	return pool.FlowId(uint64(export.Kind)<<56 | export.Value&(1<<56-1))
}

// decodePeek compiles a peek's key, map-filter-project and finishing
// against the schema of what it reads.
func decodePeek(m *messages.ComputePeek, schema dataflow.Schema) (dataflow.PeekSpec, error) {
	spec := dataflow.PeekSpec{Time: timely.Timestamp(m.GetTimestamp())}
	if m.GetKey() != nil {
		key, err := dataflow.RowFromWire(m.GetKey())
		if err != nil {
			return spec, fmt.Errorf("%w: peek key: %v", ErrInvalidCommand, err)
		}
		spec.Key = key
	}
	if m.GetMfp() != nil {
		mfp, err := dataflow.CompileMapFilterProject(m.GetMfp(), schema)
		if err != nil {
			return spec, fmt.Errorf("%w: %v", ErrInvalidCommand, err)
		}
		spec.MFP, schema = mfp, mfp.Schema()
	}
	if m.GetFinishing() != nil {
		fin, err := dataflow.CompileFinishing(m.GetFinishing(), schema)
		if err != nil {
			return spec, fmt.Errorf("%w: %v", ErrInvalidCommand, err)
		}
		spec.Finishing = fin
	}
	return spec, nil
}

func rowToWire(r dataflow.Row) *messages.Row { return dataflow.RowToWire(r) }

func rowsToWire(rows []dataflow.Row) []*messages.Row {
	out := make([]*messages.Row, len(rows))
	for i, r := range rows {
		out[i] = dataflow.RowToWire(r)
	}
	return out
}
