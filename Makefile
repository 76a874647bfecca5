# Arbor's build. `make run` starts one node; `make test` runs the whole suite.
SHELL := /bin/bash
GO    ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
PROTOC_GEN_GO_VERSION := v1.36.12

# Packages whose tests start two protoactor remotes in one process.
# protoactor's remote.Start replaces gRPC's global logger on every start, a
# write the race detector reports against the first server's goroutines, so
# these packages run without -race. Everything else runs with it.
NORACE_PKGS := github.com/arbor-db/arbor/messages
ALL_PKGS     = $(shell $(GO) list ./...)
RACE_PKGS    = $(filter-out $(NORACE_PKGS),$(ALL_PKGS))
TEST_FLAGS  ?= -count=1 -timeout 15m

.PHONY: all run build test test-race test-norace bench generate check-generated lint tools clean

all: lint build test

## run: build and start one node on the embedded default (data under ./data)
run: build
	./bin/node --data-dir ./data

## build: compile every command into bin/
build:
	@mkdir -p bin
	$(GO) build -o bin/ ./cmd/...

## test: the whole suite (-race except NORACE_PKGS); fuzz seed corpora run too
test: test-race test-norace

test-race:
	$(GO) test -race $(TEST_FLAGS) $(RACE_PKGS)

test-norace:
	$(GO) test $(TEST_FLAGS) $(NORACE_PKGS)

## bench: every benchmark, each beside its same-run baseline
BENCH_FLAGS ?= -benchtime 1x -count 1
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
