// Package client is the Go client library of Arbor: a program dials a node,
// creates tables, writes rows and peeks, over the client protocol
// (messages/client.proto) that the node's environment serves.
//
//	c, err := client.Dial(ctx, "127.0.0.1:6880")
//	...
//	defer c.Close()
//	c.CreateTable(ctx, client.TableSpec{Name: "orders", Columns: cols, Key: []string{"id"}})
//	ts, err := c.Insert(ctx, "orders", client.Row{1, "alice", 30})
//	res, err := c.Peek(ctx, "orders", client.Where("customer", "alice"), client.Limit(10))
//
// A Client is one session. It runs a small protoactor system of its own,
// listening on a free loopback port (WithListenHost changes the host),
// because protoactor remote has no client-only mode; the environment
// watches the client's session actor and ends the session, canceling its
// pending statements, when the client closes or its process dies.
//
// Every method takes a context: its deadline or cancellation ends the wait
// with ErrTimeout or ErrCanceled (a write's outcome is then unknown; use
// Cancel to cancel the session's statements in the environment). Errors the
// environment answers with are *Error values matching, under errors.Is,
// ErrNotFound, ErrAlreadyExists, ErrInvalidArgument, ErrInvalidRow,
// ErrCanceled, ErrTimeout, ErrCompacted or ErrUnavailable.
//
// Consistency: a peek without AsOf sees every write acknowledged before it
// was sent, by any client (strict serializable); AsOf reads an older time,
// down to the collection's since.
//
// Views, indexes, materialized views, clusters, replicas and subscribes
// are in the protocol and in this package, but the environment answers them
// ErrUnavailable until it runs the compute controller.
//
// Failover (failover.go): with WithAddresses the client keeps to the first
// environment that accepts a session and, when it goes away, stops serving
// or is fenced, opens a session on the next; idempotent calls (peeks,
// List, Dump) are sent again within WithFailover's budget, others fail
// with ErrFailover (outcome unknown). docs/client.md has the details.
package client
