package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/arbor-db/arbor/actors/catalog"
	"github.com/arbor-db/arbor/actors/catalog/durable"
	"github.com/arbor-db/arbor/actors/environment"
	"github.com/arbor-db/arbor/actors/storage"
)

// Zero-downtime deploys (docs/deploy.md). A node of a new deploy
// generation boots with --read-only next to the serving one, on the same
// etcd catalog (--catalog) and storage (--storage): its catalog guardian
// opens the catalog read-only, storage opens its shards without writing,
// and the environment bootstraps and hydrates its clusters but serves no
// client. GET /promote/status says when it is ready to promote; POST
// /promote promotes it, in this order:
//
//  1. the catalog guardian reopens the catalog writable with this node's
//     generation, which fences the serving node through the catalog (it
//     halts at its next leadership check, within a second);
//  2. storage reopens its shards as the writer with the new token, which
//     completes the old writer's last group commit and fences the old
//     writer's storage: its next write fails and writes nothing;
//  3. the environment reloads the catalog and serves clients.
//
// Clients that know both addresses (client.WithAddresses, arborctl --addr
// a,b) move to the promoted node by themselves.

// promoteTimeout bounds each step of a promotion.
const promoteTimeout = 30 * time.Second

// storageSpec is a parsed --storage: empty Endpoints means Pebble under the
// data dir.
type storageSpec = etcdSpec

func parseStorageSpec(s string) (storageSpec, error) {
	return parseEtcdSpec("storage", s)
}

// validateDeploy checks --storage and --read-only: a read-only node
// shares its catalog and storage with the serving one, so both must be on
// etcd.
func (c Config) validateDeploy() error {
	st, err := parseStorageSpec(c.Storage)
	if err != nil {
		return err
	}
	if !c.ReadOnly {
		return nil
	}
	if c.Catalog == "" || st.Endpoints == nil {
		return fmt.Errorf("%w: --read-only needs the serving node's shared --catalog and --storage (etcd://...)", ErrBadConfig)
	}
	return nil
}

// deployState is the node's promotion state.
type deployState struct {
	mu       sync.Mutex
	promoted bool
	token    durable.FenceToken // the writable token once promoted
	inFlight bool
}

// PromotionStatus is what GET /promote/status answers.
type PromotionStatus struct {
	// Generation is this node's --deploy-generation.
	Generation uint64 `json:"deploy_generation"`
	// ReadOnly: the node awaits promotion; Promoted: POST /promote
	// succeeded.
	ReadOnly bool `json:"read_only"`
	Promoted bool `json:"promoted"`
	// ReadyToPromote: read-only, the environment bootstrapped and every
	// replica hydrated.
	ReadyToPromote bool `json:"ready_to_promote"`
	// Token is the catalog token this node holds (the serving node's while
	// read-only).
	Token string `json:"token"`
	// Waiting names what is not yet ready.
	Waiting []string `json:"waiting,omitempty"`
}

// PromotionStatus reports whether the node is read-only and ready to
// promote.
func (n *Node) PromotionStatus() (PromotionStatus, error) {
	st := PromotionStatus{Generation: n.cfg.DeployGeneration}
	n.deploy.mu.Lock()
	st.Promoted = n.deploy.promoted
	n.deploy.mu.Unlock()
	res, err := n.system.Root.RequestFuture(n.env, &environment.PromotionStatus{}, promoteTimeout).Result()
	if err != nil {
		return st, fmt.Errorf("environment promotion status: %w", err)
	}
	es, ok := res.(*environment.PromotionStatusResult)
	if !ok {
		return st, fmt.Errorf("environment promotion status: unexpected answer %T", res)
	}
	cres, err := n.system.Root.RequestFuture(n.catalog.pid, &catalog.GetStatus{}, promoteTimeout).Result()
	if err != nil {
		return st, fmt.Errorf("catalog status: %w", err)
	}
	if cs, ok := cres.(*catalog.Status); ok {
		st.Token = cs.Token.String()
	}
	st.ReadOnly = es.ReadOnly
	st.ReadyToPromote = es.ReadyToPromote()
	st.Waiting = es.Waiting
	if !st.ReadOnly && !st.Promoted {
		st.Waiting = append(st.Waiting, "the node is not read-only: it serves already")
	}
	return st, nil
}

// ErrNotReadOnly is Promote on a node that was not started --read-only.
var ErrNotReadOnly = errors.New("node: not read-only: only a node started with --read-only can be promoted")

// Promote makes a read-only node the serving one (see the top of this
// file) and returns its catalog token. Promoting a promoted node returns
// its token again. A failure names the step; a fence at step 1 (a newer
// generation owns the catalog) also halts the node.
func (n *Node) Promote() (durable.FenceToken, error) {
	n.deploy.mu.Lock()
	switch {
	case n.deploy.promoted:
		tok := n.deploy.token
		n.deploy.mu.Unlock()
		return tok, nil
	case !n.cfg.ReadOnly:
		n.deploy.mu.Unlock()
		return durable.FenceToken{}, ErrNotReadOnly
	case n.deploy.inFlight:
		n.deploy.mu.Unlock()
		return durable.FenceToken{}, errors.New("node: a promotion is in progress")
	}
	n.deploy.inFlight = true
	n.deploy.mu.Unlock()
	defer func() { n.deploy.mu.Lock(); n.deploy.inFlight = false; n.deploy.mu.Unlock() }()

	start := time.Now()
	res, err := n.system.Root.RequestFuture(n.catalog.pid, &catalog.Promote{}, promoteTimeout).Result()
	if err != nil {
		return durable.FenceToken{}, fmt.Errorf("promote: take over the catalog: %w", err)
	}
	cr, ok := res.(*catalog.PromoteResult)
	switch {
	case !ok:
		return durable.FenceToken{}, fmt.Errorf("promote: take over the catalog: unexpected answer %T", res)
	case cr.Err != nil:
		return durable.FenceToken{}, fmt.Errorf("promote: take over the catalog: %w", cr.Err)
	}
	token := cr.Token
	n.logger.Info("promote: catalog taken over", "token", token.String(), "after", time.Since(start))
	res, err = n.system.Root.RequestFuture(n.storage.pid, &storage.Promote{Token: token}, promoteTimeout).Result()
	if err != nil {
		return token, fmt.Errorf("promote: take over storage: %w", err)
	}
	if sr, ok := res.(*storage.PromoteResult); !ok || sr.Err != nil {
		return token, fmt.Errorf("promote: take over storage: %v", describe(res, sr))
	}
	n.logger.Info("promote: storage taken over", "after", time.Since(start))
	if _, err := n.system.Root.RequestFuture(n.env, &environment.Promote{}, promoteTimeout).Result(); err != nil {
		return token, fmt.Errorf("promote: environment: %w", err)
	}
	n.deploy.mu.Lock()
	n.deploy.promoted, n.deploy.token = true, token
	n.deploy.mu.Unlock()
	n.catalog.token = token
	n.logger.Info("promoted", "token", token.String(), "took", time.Since(start))
	return token, nil
}

func describe(res any, sr *storage.PromoteResult) string {
	if sr == nil {
		return fmt.Sprintf("unexpected answer %T", res)
	}
	return sr.Err.Error()
}

// promotionRoutes serves GET /promote/status (200 when ready to promote,
// 503 otherwise, a PromotionStatus in JSON either way) and POST /promote
// (200 with the new token, 409 when the node is not read-only, 500 when a
// step failed).
func (n *Node) promotionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/promote/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := n.PromotionStatus()
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		code := http.StatusOK
		if !st.ReadyToPromote {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, st)
	})
	mux.HandleFunc("/promote", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST /promote promotes a read-only node", http.StatusMethodNotAllowed)
			return
		}
		if err := promoteAllowedFrom(r.RemoteAddr); err != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": err.Error()})
			return
		}
		tok, err := n.Promote()
		switch {
		case errors.Is(err, ErrNotReadOnly):
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"promoted": true, "token": tok.String()})
		}
	})
}

// promoteAllowedFrom refuses POST /promote from anywhere but loopback.
// The HTTP endpoint is plain and unauthenticated (it serves /metrics and
// probes, and may listen on a non-loopback address for scraping), and a
// promotion fences the serving environment: whoever reached the port
// could otherwise take a deploy's old generation down. Run `arborctl
// promote` on the node's host.
func promoteAllowedFrom(remoteAddr string) error {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return fmt.Errorf("POST /promote: cannot tell where %q comes from: %w", remoteAddr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("POST /promote is accepted from loopback only, not from %s: run arborctl promote on the node's host", host)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
