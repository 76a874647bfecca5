package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// arborctl promote: zero-downtime deploys (docs/deploy.md). It talks to
// the HTTP endpoint of the read-only node (its --http address), not to an
// environment:
//
//	arborctl promote --http 127.0.0.1:7881 --status   # ready to promote?
//	arborctl promote --http 127.0.0.1:7881            # promote it

// promoteStatus is the part of GET /promote/status arborctl prints.
type promoteStatus struct {
	Generation     uint64   `json:"deploy_generation"`
	ReadOnly       bool     `json:"read_only"`
	Promoted       bool     `json:"promoted"`
	ReadyToPromote bool     `json:"ready_to_promote"`
	Token          string   `json:"token"`
	Waiting        []string `json:"waiting"`
}

// runPromote runs `arborctl promote [--http addr] [--status]`. With
// --status it exits 0 only when the node is ready to promote.
func runPromote(ctx context.Context, g *globals, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	httpAddr := fs.String("http", "127.0.0.1:6881", "the HTTP address (--http) of the read-only node to promote")
	status := fs.Bool("status", false, "only report whether the node is ready to promote")
	if err := fs.Parse(args); err != nil {
		return usagef("promote: %v", err)
	}
	if fs.NArg() > 0 {
		return usagef("promote takes no arguments, got %q", fs.Args())
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	hc := &http.Client{}
	if *status {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+*httpAddr+"/promote/status", nil)
		if err != nil {
			return usagef("promote: --http %q: %v", *httpAddr, err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("promote status of %s: %w", *httpAddr, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var st promoteStatus
		if err := json.Unmarshal(body, &st); err != nil {
			return fmt.Errorf("promote status of %s: %s (%s)", *httpAddr, strings.TrimSpace(string(body)), resp.Status)
		}
		if g.output == "json" {
			fmt.Fprintln(stdout, strings.TrimSpace(string(body)))
		} else {
			fmt.Fprintf(stdout, "deploy generation %d: read-only %t, promoted %t, ready to promote %t (catalog token %s)\n",
				st.Generation, st.ReadOnly, st.Promoted, st.ReadyToPromote, st.Token)
			for _, w := range st.Waiting {
				fmt.Fprintf(stdout, "  waiting: %s\n", w)
			}
		}
		if !st.ReadyToPromote {
			return fmt.Errorf("%s is not ready to promote", *httpAddr)
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+*httpAddr+"/promote", nil)
	if err != nil {
		return usagef("promote: --http %q: %v", *httpAddr, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("promote %s: %w", *httpAddr, err)
	}
	defer resp.Body.Close()
	var out struct {
		Promoted bool   `json:"promoted"`
		Token    string `json:"token"`
		Error    string `json:"error"`
	}
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK {
		if out.Error != "" {
			return fmt.Errorf("promote %s: %s", *httpAddr, out.Error)
		}
		return fmt.Errorf("promote %s: %s (%s)", *httpAddr, strings.TrimSpace(string(body)), resp.Status)
	}
	fmt.Fprintf(stdout, "promoted %s: it serves with catalog token %s\n", *httpAddr, out.Token)
	return nil
}
