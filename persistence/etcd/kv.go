package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/internal/kvshard"
)

// kv is a kvshard.KV over an etcd client.
type kv struct {
	client *clientv3.Client
	owned  bool // Close closes client
}

// Read implements kvshard.KV as one etcd txn of range gets (one revision).
// A limited range keeps etcd's default key order: with any other sort order
// etcd reads the whole range before it applies the limit.
func (e *kv) Read(ctx context.Context, ranges []kvshard.Range) ([][]kvshard.KeyValue, error) {
	ops := make([]clientv3.Op, len(ranges))
	for i, r := range ranges {
		opts := []clientv3.OpOption{clientv3.WithRange(string(r.End))}
		if r.Limit > 0 {
			opts = append(opts, clientv3.WithLimit(int64(r.Limit)))
		}
		ops[i] = clientv3.OpGet(string(r.Start), opts...)
	}
	resp, err := e.client.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([][]kvshard.KeyValue, len(ranges))
	for i, r := range resp.Responses {
		for _, p := range r.GetResponseRange().GetKvs() {
			out[i] = append(out[i], kvshard.KeyValue{Key: p.Key, Value: present(p.Value)})
		}
	}
	return out, nil
}

// present returns v, never nil: a stored empty value is not an absent key.
func present(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// Txn implements kvshard.KV as one etcd txn; Else reads the compared keys.
func (e *kv) Txn(ctx context.Context, cmps []kvshard.Compare, ops []kvshard.Op) (bool, [][]byte, error) {
	conds := make([]clientv3.Cmp, len(cmps))
	gets := make([]clientv3.Op, len(cmps))
	for i, c := range cmps {
		if c.Value == nil {
			conds[i] = clientv3.Compare(clientv3.CreateRevision(string(c.Key)), "=", 0)
		} else {
			conds[i] = clientv3.Compare(clientv3.Value(string(c.Key)), "=", string(c.Value))
		}
		gets[i] = clientv3.OpGet(string(c.Key))
	}
	writes := make([]clientv3.Op, len(ops))
	for i, o := range ops {
		if o.End != nil {
			writes[i] = clientv3.OpDelete(string(o.Key), clientv3.WithRange(string(o.End)))
		} else {
			writes[i] = clientv3.OpPut(string(o.Key), string(o.Value))
		}
	}
	resp, err := e.client.Txn(ctx).If(conds...).Then(writes...).Else(gets...).Commit()
	if err != nil {
		return false, nil, mapErr(err)
	}
	if resp.Succeeded {
		return true, nil, nil
	}
	cur := make([][]byte, len(cmps))
	for i, r := range resp.Responses {
		if kvs := r.GetResponseRange().GetKvs(); len(kvs) > 0 {
			cur[i] = present(kvs[0].Value)
		}
	}
	return false, cur, nil
}

func mapErr(err error) error {
	if errors.Is(err, rpctypes.ErrRequestTooLarge) {
		return fmt.Errorf("%w: %v", persistence.ErrTooLarge, err)
	}
	return err
}

// Close closes the client if the Store owns it.
func (e *kv) Close() error {
	if e.owned {
		return e.client.Close()
	}
	return nil
}
