# Arbor's build. `make run` starts one node; `make test` runs the whole suite.
SHELL := /bin/bash
GO    ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
PROTOC_GEN_GO_VERSION := v1.36.12

# Tests that start two protoactor remotes in one process carry the build
# constraint `//go:build !race`: protoactor's remote.Start replaces gRPC's
# global logger on every start, a write the race detector reports against the
# first server's goroutines. The race pass therefore skips them, and a second
# pass runs the packages that hold such files without -race.
NORACE_PKGS  = $(sort $(dir $(shell grep -rl --include='*_test.go' '^//go:build !race' .)))
TEST_FLAGS  ?= -count=1 -timeout 15m

.PHONY: all run build test test-race test-norace test-cluster bench generate check-generated lint tools clean

all: lint build test

## run: build and start one node on the embedded default (data under ./data)
run: build
	./bin/node --data-dir ./data

## build: compile every command into bin/
build:
	@mkdir -p bin
	$(GO) build -o bin/ ./cmd/...

## test: the whole suite with -race, then the two-remote tests without it; fuzz seed corpora run too
test: test-race test-norace

test-race:
	$(GO) test -race $(TEST_FLAGS) ./...

test-norace:
	$(if $(NORACE_PKGS),$(GO) test $(TEST_FLAGS) $(NORACE_PKGS))

## test-cluster: cluster mode with node processes (a node killed, partitioned, leaving); about a minute, so not in make test
test-cluster:
	$(GO) test -tags cluster $(TEST_FLAGS) ./cluster/processtest/

## bench: every benchmark, each beside its same-run baseline
BENCH_FLAGS ?= -count 1 -timeout 30m
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_FLAGS) ./... | tee bench.out

## generate: regenerate protobuf code (installs protoc and protoc-gen-go when missing)
generate: tools
	PATH="$(GOBIN):$$PATH" protoc -I . --go_out=. --go_opt=paths=source_relative messages/*.proto

## check-generated: fail when committed generated code is stale
check-generated: generate
	@git diff --exit-code -- messages/ || { echo "generated code is stale: run 'make generate' and commit"; exit 1; }

tools:
	@command -v protoc >/dev/null || { \
		echo "installing protoc from Debian packages"; \
		apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null; }
	@test -x "$(GOBIN)/protoc-gen-go" && "$(GOBIN)/protoc-gen-go" --version | grep -q "$(PROTOC_GEN_GO_VERSION)" || \
		$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

## lint: gofmt check and go vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin bench.out
