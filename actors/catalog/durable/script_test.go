package durable_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/persistence/mem"
	"github.com/arbor-db/arbor/timely"
)

// TestScripts runs the scripted scenarios in testdata/: several handles on
// one catalog (on the mem backend), as several processes would hold them.
// Regenerate the expected output with
// `go test ./actors/catalog/durable -run TestScripts -rewrite` and review
// the diff like code.
//
// Commands:
//
//	open h=<name> [mode=writable|savepoint|read-only] [gen=<n>] [build=<n>]
//	begin h=<name> tx=<name>             a synced transaction
//	create-cluster tx=<name> id=<n> name=<s>
//	create-table tx=<name> id=<n> name=<s> [deps=(<n>,...)]
//	drop-item tx=<name> id=<n>
//	commit tx=<name>
//	snapshot h=<name>                     clusters, items and the token
//	confirm h=<name>                      leadership check
//	token h=<name>                        the handle's FenceableToken
//	durable                               the catalog shard's contents
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		s := &script{e: newEnvOn(t, mem.New()), handles: map[string]*durable.Handle{}, txs: map[string]*durable.Transaction{}}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string { return s.run(t, d) })
	})
}

type script struct {
	e       *env
	handles map[string]*durable.Handle
	txs     map[string]*durable.Transaction
}

func (s *script) ctx() context.Context { return s.e.ctx }

func scriptErr(err error) string {
	var fe *durable.FenceError
	if errors.As(err, &fe) {
		return fmt.Sprintf("fenced (%s): current %s, fence %s", fe.Kind, fe.Current, fe.Fence)
	}
	var ve *durable.VersionError
	if errors.As(err, &ve) {
		return fmt.Sprintf("incompatible version: durable %d, build %d", ve.Durable, ve.Build)
	}
	for _, sentinel := range []error{durable.ErrStaleTransaction, durable.ErrReadOnly, durable.ErrAlreadyExists, durable.ErrNotFound, durable.ErrInUse, durable.ErrInvalid} {
		if errors.Is(err, sentinel) {
			return "error: " + sentinel.Error()
		}
	}
	return "error: " + err.Error()
}

func (s *script) run(t *testing.T, d *datadriven.TestData) string {
	arg := func(name string) string {
		var v string
		d.ScanArgs(t, name, &v)
		return v
	}
	num := func(name string) uint64 {
		var v uint64
		d.ScanArgs(t, name, &v)
		return v
	}
	handle := func() *durable.Handle {
		h, ok := s.handles[arg("h")]
		require.True(t, ok, "%s: no handle %q", d.Pos, arg("h"))
		return h
	}
	tx := func() *durable.Transaction {
		x, ok := s.txs[arg("tx")]
		require.True(t, ok, "%s: no transaction %q", d.Pos, arg("tx"))
		return x
	}
	result := func(err error) string {
		if err != nil {
			return scriptErr(err)
		}
		return "ok"
	}
	switch d.Cmd {
	case "open":
		cfg := s.e.config(durable.Writable, 0)
		if d.HasArg("mode") {
			cfg.Mode = map[string]durable.Mode{"writable": durable.Writable, "savepoint": durable.Savepoint, "read-only": durable.ReadOnly}[arg("mode")]
		}
		if d.HasArg("gen") {
			cfg.DeployGeneration = num("gen")
		}
		if d.HasArg("build") {
			cfg.BuildVersion = num("build")
		}
		h, err := durable.Open(s.ctx(), cfg)
		if err != nil {
			return scriptErr(err)
		}
		s.handles[arg("h")] = h
		return fmt.Sprintf("%s, token %s", h.Mode(), h.Token())
	case "begin":
		x, err := handle().Transaction(s.ctx())
		if err != nil {
			return scriptErr(err)
		}
		s.txs[arg("tx")] = x
		return fmt.Sprintf("ok at upper %s", x.Upper())
	case "create-cluster":
		return result(tx().CreateCluster(cluster(num("id"), arg("name"))))
	case "create-table":
		it := table(num("id"), arg("name"))
		if d.HasArg("deps") {
			var deps []string
			d.ScanArgs(t, "deps", &deps)
			for _, dep := range deps {
				var n uint64
				_, err := fmt.Sscan(dep, &n)
				require.NoError(t, err)
				it.DependsOn = append(it.DependsOn, messages.FromGlobalId(timely.UserId(n)))
			}
		}
		return result(tx().CreateItem(it))
	case "drop-item":
		return result(tx().DropItem(timely.UserId(num("id"))))
	case "commit":
		upper, err := tx().Commit(s.ctx())
		if err != nil {
			return scriptErr(err)
		}
		return fmt.Sprintf("ok, upper %s", upper)
	case "confirm":
		return result(handle().ConfirmLeadership(s.ctx()))
	case "token":
		ft := handle().FenceableToken()
		if f, fenced := ft.Fence(); fenced {
			return fmt.Sprintf("%s: current %s, fence %s", ft.State(), ft.Current(), f)
		}
		return fmt.Sprintf("%s: current %s", ft.State(), ft.Current())
	case "snapshot":
		snap, err := handle().Snapshot(s.ctx())
		if err != nil {
			return scriptErr(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "upper %s, token %s\n", snap.Upper(), snap.FenceToken())
		for _, c := range snap.Clusters() {
			id, _ := c.GetId().ToTimely()
			fmt.Fprintf(&b, "cluster %s %q\n", id, c.GetName())
		}
		for _, it := range snap.Items() {
			id, _ := it.GetId().ToTimely()
			fmt.Fprintf(&b, "item %s %q\n", id, it.GetName())
		}
		return b.String()
	case "durable":
		return s.durable(t)
	}
	t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	return ""
}

// durable prints the catalog shard's consolidated contents, one entry a line.
func (s *script) durable(t *testing.T) string {
	var lines []string
	for _, u := range s.e.rawContents() {
		k, v := &messages.CatalogKey{}, &messages.CatalogValue{}
		require.NoError(t, proto.Unmarshal(u.Key, k))
		require.NoError(t, proto.Unmarshal(u.Value, v))
		var line string
		switch {
		case v.GetCluster() != nil:
			id, _ := v.GetCluster().GetId().ToTimely()
			line = fmt.Sprintf("cluster %s %q", id, v.GetCluster().GetName())
		case v.GetItem() != nil:
			id, _ := v.GetItem().GetId().ToTimely()
			line = fmt.Sprintf("item %s %q", id, v.GetItem().GetName())
		case v.GetIdAllocator() != nil:
			line = fmt.Sprintf("id_allocator %s next %d", v.GetIdAllocator().GetName(), v.GetIdAllocator().GetNextId())
		case v.GetAuditLog() != nil:
			a := v.GetAuditLog()
			line = fmt.Sprintf("audit_log %d %s %s %s %q", a.GetId(),
				strings.TrimPrefix(a.GetEventType().String(), "CATALOG_AUDIT_EVENT_TYPE_"),
				strings.TrimPrefix(a.GetObjectType().String(), "CATALOG_AUDIT_OBJECT_TYPE_"), a.GetObjectId(), a.GetName())
		case v.GetFenceToken() != nil:
			line = fmt.Sprintf("fence_token (generation %d, epoch %d)", v.GetFenceToken().GetDeployGeneration(), v.GetFenceToken().GetEpoch())
		default:
			line = fmt.Sprintf("other %v", v.ProtoReflect().WhichOneof(v.ProtoReflect().Descriptor().Oneofs().Get(0)).Name())
		}
		lines = append(lines, fmt.Sprintf("%s (diff %d)", line, u.Diff))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
