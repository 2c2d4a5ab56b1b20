# Concierge: make run starts the server, make test runs every test.

GO        ?= go
ADDR      ?= localhost:8080
DATA      ?= ./data
FUZZTIME  ?= 30s
BENCH     ?= .
COUNT     ?= 1
PKG       ?= ./...
BIN       ?= bin/concierge

.DEFAULT_GOAL := help

.PHONY: help run build test test-short browser-deps fuzz bench bench-compare lint tidy clean screenshots

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: build ## build and start the server on $(ADDR) with data in $(DATA)
	$(BIN) serve -addr $(ADDR) -data $(DATA)

build: ## build bin/concierge
	$(GO) build -o $(BIN) ./cmd/concierge

test: browser-deps ## run every test with the race detector
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-short: ## run the fast tests only
	$(GO) test -short -count=1 ./...

browser-deps: ## install Debian's Chromium and a CJK font for the browser tests when missing
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and fonts-wqy-microhei for the browser tests"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null \
	    || echo "apt-get could not install chromium; browser tests will skip"; \
	else echo "chromium is missing and this user cannot install it; browser tests will skip"; fi

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: ## run benchmarks matching BENCH in PKG, COUNT times
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(COUNT) $(PKG)

bench-compare: ## compare old.txt and new.txt with benchstat
	$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da old.txt new.txt

screenshots: browser-deps ## rewrite the widget screenshots in docs/screenshots
	CONCIERGE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run Browser ./cmd/concierge

lint: ## fail on unformatted files and run go vet
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

tidy: ## tidy go.mod and go.sum
	$(GO) mod tidy

clean: ## remove the binary and the local data directory
	rm -rf bin $(DATA)
