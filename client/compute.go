package client

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
)

// The operations below need the environment's compute controller. Their
// protocol is final; an environment that does not run compute yet answers
// them with ErrUnavailable, naming the operation.

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
	return c.create(ctx, "create view", &messages.ClientCreateView{Conn: c.conn, Name: name, Plan: plan.toWire()})
}

// CreateIndex arranges on (a view or table) by keys on cluster (the
// default cluster when empty).
func (c *Client) CreateIndex(ctx context.Context, name, on string, keys []string, cluster string) (Object, error) {
	return c.create(ctx, "create index", &messages.ClientCreateIndex{Conn: c.conn, Name: name, On: on, KeyColumns: keys, Cluster: cluster})
}

// CreateMaterializedView computes plan on cluster and persists it.
func (c *Client) CreateMaterializedView(ctx context.Context, name string, plan *Plan, cluster string) (Object, error) {
	return c.create(ctx, "create materialized view", &messages.ClientCreateMaterializedView{Conn: c.conn, Name: name, Plan: plan.toWire(), Cluster: cluster})
}

// CreateCluster creates a cluster with the named replicas (size "" each).
func (c *Client) CreateCluster(ctx context.Context, name string, replicas ...string) (Object, error) {
	req := &messages.ClientCreateCluster{Conn: c.conn, Name: name}
	for _, r := range replicas {
		req.Replicas = append(req.Replicas, &messages.ClientReplicaSpec{Name: r})
	}
	return c.create(ctx, "create cluster", req)
}

// CreateReplica adds a replica to a cluster.
func (c *Client) CreateReplica(ctx context.Context, cluster, name, size string) (Object, error) {
	return c.create(ctx, "create replica", &messages.ClientCreateReplica{Conn: c.conn, Cluster: cluster, Replica: &messages.ClientReplicaSpec{Name: name, Size: size}})
}

// Subscribe asks for a collection's changes. Not served yet: it returns
// the environment's answer (ErrUnavailable).
func (c *Client) Subscribe(ctx context.Context, collection string) error {
	_, err := call[*messages.ClientSubscribeResponse](ctx, c, "subscribe", &messages.ClientSubscribe{Conn: c.conn, Collection: collection})
	return err
}

func (c *Client) create(ctx context.Context, op string, req proto.Message) (Object, error) {
	resp, err := call[*messages.ClientCreateResponse](ctx, c, op, req)
	if err != nil {
		return Object{}, err
	}
	return objectFromWire(resp.GetObject()), nil
}
