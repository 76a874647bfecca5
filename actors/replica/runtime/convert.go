package runtime

import (
	"fmt"
	"time"

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

// decodeInstall compiles an RtInstallFlow into a flow spec.
func decodeInstall(m *messages.RtInstallFlow) (pool.FlowSpec, error) {
	var spec pool.FlowSpec
	export, err := m.GetExport().ToTimely()
	if err != nil {
		return spec, fmt.Errorf("%w: install: export: %v", ErrInvalidCommand, err)
	}
	schemas := map[timely.GlobalId]dataflow.Schema{}
	var sources []pool.Source
	for i, s := range m.GetSources() {
		id, err := s.GetId().ToTimely()
		if err != nil {
			return spec, fmt.Errorf("%w: install %s: source %d: %v", ErrInvalidCommand, export, i, err)
		}
		schema, err := dataflow.SchemaFromWire(s.GetSchema())
		if err != nil {
			return spec, fmt.Errorf("%w: install %s: source %s: %v", ErrInvalidCommand, export, id, err)
		}
		var kind pool.SourceKind
		switch s.GetKind() {
		case messages.RtSourceKind_RT_SOURCE_KIND_TABLE:
			kind = pool.SourceTable
		case messages.RtSourceKind_RT_SOURCE_KIND_VIEW:
			kind = pool.SourceView
		default:
			return spec, fmt.Errorf("%w: install %s: source %s has no kind", ErrInvalidCommand, export, id)
		}
		schemas[id] = schema
		sources = append(sources, pool.Source{Id: id, Kind: kind})
	}
	plan, err := dataflow.Compile(m.GetPlan(), schemas)
	if err != nil {
		return spec, fmt.Errorf("%w: install %s: %v", ErrInvalidCommand, export, err)
	}
	// Keep only the sources the plan reads, in its order.
	used := map[timely.GlobalId]bool{}
	for _, id := range plan.Sources() {
		used[id] = true
	}
	var kept []pool.Source
	for _, s := range sources {
		if used[s.Id] {
			kept = append(kept, s)
			delete(used, s.Id)
		}
	}
	return pool.FlowSpec{
		Id:           FlowIdOf(export),
		Export:       export,
		Plan:         plan,
		Sources:      kept,
		AsOf:         timely.Timestamp(m.GetAsOf()),
		Materialized: m.GetMaterialized(),
		TickInterval: time.Duration(m.GetTickIntervalMs()) * time.Millisecond,
	}, nil
}

// decodePeek compiles an RtPeek against the flow's output.
func decodePeek(m *messages.RtPeek, plan *dataflow.Plan) (dataflow.PeekSpec, error) {
	spec := dataflow.PeekSpec{Time: timely.Timestamp(m.GetTimestamp())}
	if m.GetKey() != nil {
		key, err := dataflow.RowFromWire(m.GetKey())
		if err != nil {
			return spec, fmt.Errorf("%w: peek key: %v", ErrInvalidCommand, err)
		}
		spec.Key = key
	}
	schema := plan.Schema()
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

func rowsToWire(rows []dataflow.Row) []*messages.Row {
	out := make([]*messages.Row, len(rows))
	for i, r := range rows {
		out[i] = dataflow.RowToWire(r)
	}
	return out
}
