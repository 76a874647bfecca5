package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// arborctl promote talks to a node's HTTP endpoints; a stand-in server
// answers as a read-only node would (the process test in cmd/node drives
// the real endpoints).
func TestPromoteCommand(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/promote/status" && r.Method == http.MethodGet:
			if !ready.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"deploy_generation":2,"read_only":true,"ready_to_promote":false,"token":"(generation 1, epoch 1)","waiting":["cluster default: u2 not hydrated on replica r1"]}`))
				return
			}
			_, _ = w.Write([]byte(`{"deploy_generation":2,"read_only":true,"ready_to_promote":true,"token":"(generation 1, epoch 1)"}`))
		case r.URL.Path == "/promote" && r.Method == http.MethodPost:
			if !ready.Load() {
				w.WriteHeader(http.StatusConflict)
				_, _ = w.Write([]byte(`{"error":"node: not read-only"}`))
				return
			}
			_, _ = w.Write([]byte(`{"promoted":true,"token":"(generation 2, epoch 2)"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	run1 := func(args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out, errOut bytes.Buffer
		code := run(ctx, args, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, out, errOut := run1("promote", "--http", addr, "--status")
	if code != 1 || !strings.Contains(out, "ready to promote false") || !strings.Contains(out, "u2 not hydrated") || !strings.Contains(errOut, "not ready to promote") {
		t.Fatalf("status while hydrating: %d %q %q", code, out, errOut)
	}
	code, _, errOut = run1("promote", "--http", addr)
	if code != 1 || !strings.Contains(errOut, "not read-only") {
		t.Fatalf("promote refused: %d %q", code, errOut)
	}
	ready.Store(true)
	if code, out, errOut = run1("promote", "--http", addr, "--status"); code != 0 || !strings.Contains(out, "ready to promote true") {
		t.Fatalf("status when ready: %d %q %q", code, out, errOut)
	}
	if code, out, errOut = run1("promote", "--http", addr); code != 0 || !strings.Contains(out, "(generation 2, epoch 2)") {
		t.Fatalf("promote: %d %q %q", code, out, errOut)
	}
	// Usage mistakes exit 2.
	if code, _, _ = run1("promote", "extra"); code != 2 {
		t.Fatalf("promote with an argument: exit %d, want 2", code)
	}
	if code, _, _ = run1("promote", "--bogus"); code != 2 {
		t.Fatalf("promote with an unknown flag: exit %d, want 2", code)
	}
}
