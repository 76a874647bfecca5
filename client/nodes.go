package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/arbor-db/arbor/messages"
)

// NodesView is the cluster as the environment sees it (ClusterGetNodes,
// `arborctl get nodes`): every node seen, and every replica of every
// running cluster with the node it runs on. A node alone lists itself.
type NodesView struct {
	// Self is the environment node's member id.
	Self     string             `json:"self"`
	Members  []Member           `json:"members"`
	Replicas []ReplicaPlacement `json:"replicas"`
}

// Member is one node of the cluster.
type Member struct {
	ID      string     `json:"id"`
	Name    string     `json:"name,omitempty"`
	Address string     `json:"address,omitempty"`
	Roles   []string   `json:"roles,omitempty"`
	State   string     `json:"state"` // up, left or blocked
	Self    bool       `json:"self,omitempty"`
	UpSince *time.Time `json:"up_since,omitempty"`
	DownAt  *time.Time `json:"down_at,omitempty"`
	// Replicas placed on the node, as "cluster id/replica id".
	Replicas []string `json:"replicas,omitempty"`
}

// ReplicaPlacement is one replica: its incarnation, status (new, active, failing,
// failed), whether every collection it computes is hydrated, and the node
// it runs on (empty while it is not placed).
type ReplicaPlacement struct {
	Cluster     string `json:"cluster"`
	ClusterId   string `json:"cluster_id"`
	Replica     string `json:"replica"`
	ReplicaId   string `json:"replica_id"`
	Incarnation uint64 `json:"incarnation"`
	Status      string `json:"status"`
	Hydrated    bool   `json:"hydrated"`
	Node        string `json:"node,omitempty"`
	Address     string `json:"address,omitempty"`
}

// Nodes returns the cluster's membership view and replica placements,
// decoded, and the JSON the environment sent.
func (c *Client) Nodes(ctx context.Context) (NodesView, []byte, error) {
	resp, err := call[*messages.ClusterGetNodesResponse](ctx, c, "get nodes", &messages.ClusterGetNodes{Conn: c.conn})
	if err != nil {
		return NodesView{}, nil, err
	}
	var v NodesView
	if err := json.Unmarshal(resp.GetJson(), &v); err != nil {
		return NodesView{}, nil, fmt.Errorf("get nodes: %w", err)
	}
	return v, resp.GetJson(), nil
}
