package client

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
)

// The operations below need the environment's compute controller (a node
// that gives its environment a replica launcher); an environment without
// one answers them with ErrUnavailable, naming the operation.

// Plan is a dataflow plan (plan.proto) whose Get nodes use transient ids
// as placeholders; Sources binds each placeholder's value to a catalog
// name.
type Plan struct {
	Plan    *messages.Plan
	Sources map[uint64]string
}

func (p *Plan) toWire() *messages.ClientPlan {
	if p == nil {
		return nil
	}
	return &messages.ClientPlan{Plan: p.Plan, Sources: p.Sources}
}

// Get returns a plan that reads the named collection.
func Get(name string) *Plan {
	return &Plan{
		Plan: &messages.Plan{Node: &messages.Plan_Get{Get: &messages.GetPlan{
			Source: &messages.GlobalId{Kind: messages.IdKind_ID_KIND_TRANSIENT, Value: 1}}}},
		Sources: map[uint64]string{1: name},
	}
}

// CreateView creates a view of plan.
func (c *Client) CreateView(ctx context.Context, name string, plan *Plan) (Object, error) {
	return c.create(ctx, "create view", &messages.ClientCreateView{Name: name, Plan: plan.toWire()})
}

// CreateIndex arranges on (a view or table) by keys on cluster (the
// default cluster when empty).
func (c *Client) CreateIndex(ctx context.Context, name, on string, keys []string, cluster string) (Object, error) {
	return c.create(ctx, "create index", &messages.ClientCreateIndex{Name: name, On: on, KeyColumns: keys, Cluster: cluster})
}

// CreateMaterializedView computes plan on cluster and persists it.
func (c *Client) CreateMaterializedView(ctx context.Context, name string, plan *Plan, cluster string) (Object, error) {
	return c.create(ctx, "create materialized view", &messages.ClientCreateMaterializedView{Name: name, Plan: plan.toWire(), Cluster: cluster})
}

// CreateCluster creates a cluster with the named replicas (size "" each).
func (c *Client) CreateCluster(ctx context.Context, name string, replicas ...string) (Object, error) {
	req := &messages.ClientCreateCluster{Name: name}
	for _, r := range replicas {
		req.Replicas = append(req.Replicas, &messages.ClientReplicaSpec{Name: r})
	}
	return c.create(ctx, "create cluster", req)
}

// CreateReplica adds a replica to a cluster.
func (c *Client) CreateReplica(ctx context.Context, cluster, name, size string) (Object, error) {
	return c.create(ctx, "create replica", &messages.ClientCreateReplica{Cluster: cluster, Replica: &messages.ClientReplicaSpec{Name: name, Size: size}})
}

func (c *Client) create(ctx context.Context, op string, req proto.Message) (Object, error) {
	resp, err := call[*messages.ClientCreateResponse](ctx, c, op, req)
	if err != nil {
		return Object{}, err
	}
	return objectFromWire(resp.GetObject()), nil
}

// Plan builders. Each returns a new plan over p; the sources stay bound.

// Col is the named column of a plan's input.
func Col(name string) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Column{Column: &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: name}}}}
}

// Lit is a literal (the Go types of a Row's values). A value of another
// type makes the plan fail to type-check when it is created.
func Lit(v any) *messages.Expr {
	d, err := datumToWire(v)
	if err != nil {
		d = nil
	}
	return &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: d}}}
}

// Compare is a binary expression: Compare(messages.BinaryOp_BINARY_OP_GT, Col("amount"), Lit(int64(50))).
func Compare(op messages.BinaryOp, left, right *messages.Expr) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Binary{Binary: &messages.BinaryExpr{Op: op, Left: left, Right: right}}}
}

func (p *Plan) derive(node *messages.Plan) *Plan {
	sources := make(map[uint64]string, len(p.Sources))
	for k, v := range p.Sources {
		sources[k] = v
	}
	return &Plan{Plan: node, Sources: sources}
}

// Filter keeps the rows for which every predicate is true.
func (p *Plan) Filter(preds ...*messages.Expr) *Plan {
	return p.derive(&messages.Plan{Node: &messages.Plan_Filter{Filter: &messages.FilterPlan{Input: p.Plan, Predicates: preds}}})
}

// Aggregate is one aggregate of a Reduce.
type Aggregate struct {
	Func messages.AggregateFunc
	// Column is the aggregated column ("" for Count).
	Column string
}

// Sum, Count, Min and Max are the aggregates.
func Sum(column string) Aggregate {
	return Aggregate{Func: messages.AggregateFunc_AGGREGATE_FUNC_SUM, Column: column}
}
func Count() Aggregate { return Aggregate{Func: messages.AggregateFunc_AGGREGATE_FUNC_COUNT} }
func Min(column string) Aggregate {
	return Aggregate{Func: messages.AggregateFunc_AGGREGATE_FUNC_MIN, Column: column}
}
func Max(column string) Aggregate {
	return Aggregate{Func: messages.AggregateFunc_AGGREGATE_FUNC_MAX, Column: column}
}

// Reduce groups the rows by the named columns and computes aggs per group:
// its rows are the group key's columns, then one column per aggregate.
func (p *Plan) Reduce(groupBy []string, aggs ...Aggregate) *Plan {
	r := &messages.ReducePlan{Input: p.Plan}
	for _, g := range groupBy {
		r.GroupKey = append(r.GroupKey, &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: g}})
	}
	for _, a := range aggs {
		w := &messages.Aggregate{Func: a.Func}
		if a.Column != "" {
			w.Column = &messages.ColumnRef{Ref: &messages.ColumnRef_Name{Name: a.Column}}
		}
		r.Aggregates = append(r.Aggregates, w)
	}
	return p.derive(&messages.Plan{Node: &messages.Plan_Reduce{Reduce: r}})
}
