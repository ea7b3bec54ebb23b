# make test: everything CI runs. make run: zkcli against a local server.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

GO ?= go
FUZZTIME ?= 3s

.PHONY: deps test fuzz run

deps:
	@scripts/deps.sh

test: deps
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) test -race -count=1 -timeout 14m ./...
	@$(MAKE) --no-print-directory fuzz

# Short runs of every fuzz target named in a FUZZ_TARGETS file (one name per
# line, # comments) of any package.
fuzz:
	@set -euo pipefail; \
	for list in $$(find . -name FUZZ_TARGETS -not -path './.git/*' | sort); do \
		pkg=$$(dirname "$$list"); \
		for name in $$(grep -v '^[[:space:]]*#' "$$list"); do \
			echo "$(GO) test -run '^$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$pkg"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

run: deps
	scripts/run.sh
