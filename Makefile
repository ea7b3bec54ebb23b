# make test: everything CI runs. make run: zkcli against a local server.
# make bench: the client comparison of bench/compare, into bench/RESULTS.md.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

GO ?= go
FUZZTIME ?= 3s
# Rounds of make bench: each runs every workload with every client against
# the fake server and a real ZooKeeper, about 30 s on 2 cores.
BENCH_ROUNDS ?= 5

.PHONY: deps test fuzz run bench

deps:
	@scripts/deps.sh

test: deps
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) test -race -count=1 -timeout 14m ./...
	@$(MAKE) --no-print-directory fuzz

# Short runs of every fuzz target named in a FUZZ_TARGETS file of any
# package (scripts/fuzz.sh).
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

run: deps
	scripts/run.sh

# zkloop, go-zookeeper, the C client (built with gcc against
# libzookeeper-mt-dev), the C floor (built with gcc) and the Go floor,
# interleaved; medians of BENCH_ROUNDS rounds with the date, the machine,
# the load and the command. Every ratio is against the C floor.
bench:
	@scripts/deps.sh bench
	cd bench/compare && $(GO) run . -rounds $(BENCH_ROUNDS) -out ../RESULTS.md
	@echo "wrote bench/RESULTS.md"
