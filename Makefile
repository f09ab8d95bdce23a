# coldmove — build, test, fuzz and benchmark targets.
# Only Go (and a C compiler for -race) must be installed; every other tool is
# built from its Go module at a pinned version into ./bin.

GO        ?= go
BIN       := $(CURDIR)/bin
DIST      := $(CURDIR)/dist
FUNCTIONS := migrate poll
ARCHES    := arm64 amd64
FUZZTIME  ?= 15s
BENCHTIME ?= 1s

# The AWS Lambda Runtime Interface Emulator, built from its Go module; tests
# that exercise the real Lambda runtime API find it through COLDMOVE_RIE.
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE         := $(BIN)/aws-lambda-rie

.PHONY: all test fmt-check vet unit build fuzz bench demo clean tools soak

all: test build

## test: gofmt check, go vet, and every test with the race detector.
test: fmt-check vet tools
	COLDMOVE_RIE=$(RIE) $(GO) test -race -count=1 ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

tools: $(RIE)

$(RIE):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

## build: each function as a static bootstrap for linux/arm64 and linux/amd64.
build: $(foreach f,$(FUNCTIONS),$(foreach a,$(ARCHES),$(DIST)/$(f)/linux-$(a)/bootstrap))

$(DIST)/%/bootstrap: FORCE
	@fn=$$(echo $* | cut -d/ -f1); arch=$$(echo $* | cut -d- -f2); \
	echo "build $$fn linux/$$arch"; \
	mkdir -p $(@D) && CGO_ENABLED=0 GOOS=linux GOARCH=$$arch \
	$(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $@ ./functions/$$fn

.PHONY: FORCE
FORCE:

## build-<LogicalId>: what `sam build` runs for each function (BuildMethod:
## makefile); template.yaml deploys on arm64.
.PHONY: build-MigrateFunction build-PollFunction
build-MigrateFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./functions/migrate

build-PollFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./functions/poll

## soak: the crash and NATS-trouble harnesses in their long forms
## (COLDMOVE_SOAK=1): every crash point of migrate and poll under a dozen
## seeds with more requests, the cluster's leader killed at every step of a
## tick, more publish-timeout seeds, with the race detector. One package at
## a time (the end-to-end time bounds assume the machine is theirs): about
## 16 minutes on 2 cores. `make test` runs their short forms. Replay seeds
## with COLDMOVE_SEEDS=3,7; SOAKFLAGS=-v prints each harness's figures.
soak:
	COLDMOVE_SOAK=1 $(GO) test -race -p 1 -run 'Crash|Trouble|Soak' -count=1 -timeout 60m $(SOAKFLAGS) ./functions/... ./e2e/...

## fuzz: every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## bench: every benchmark, with allocations; then the figures of bulk
## observation and the Lambda runtime, run once each: the lifetime of 1k,
## 10k and 50k migrations tracked three ways (the model, and the real run at
## 1k), the sweep of the real poll binary, the migrate path, bootstrap sizes
## and cold start. They are gathered into dist/bench/results.json,
## chart.svg and results.md (the table and the cost model). Several minutes.
BENCHOUT  := $(DIST)/bench
FIGURES   := ^Benchmark(LifetimeModel|LifetimeReal1k|Sweep|SweepPerJob10k|MigratePath|Lambda)$$
bench: tools
	@rm -rf $(BENCHOUT)/fragments && mkdir -p $(BENCHOUT)/fragments
	COLDMOVE_RIE=$(RIE) $(GO) test -run '^$$' -bench . -skip '$(FIGURES)' -benchmem -benchtime $(BENCHTIME) ./...
	COLDMOVE_RIE=$(RIE) COLDMOVE_BENCH_OUT=$(BENCHOUT)/fragments $(GO) test -run '^$$' -bench '$(FIGURES)' \
	  -benchtime 1x -timeout 30m ./functions/poll ./functions/migrate ./internal/lambdatest
	$(GO) run ./cmd/benchreport -out $(BENCHOUT) $(BENCHOUT)/fragments

## demo: the whole flow on an embedded NATS server and the ECS simulator:
## builds the CLI and both functions into ./bin, then runs `coldmove demo`.
demo:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/coldmove ./functions/migrate ./functions/poll
	$(BIN)/coldmove demo --bin $(BIN)

clean:
	rm -rf $(BIN) $(DIST)
	$(GO) clean -testcache
