# medguard — build and test.
#
#   make check   installs what the integration tests need (when missing and
#                possible), then runs gofmt, go vet, staticcheck, govulncheck
#                and every test with the race detector, integration tests
#                required.
#   make fuzz    runs every fuzz target for FUZZTIME each.
#   make bench   runs the benchmarks.

SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.9.0
FUZZTIME ?= 30s
# Debian packages whose programs the integration tests use as real parts.
DEB_PACKAGES := swtpm swtpm-tools curl aide softhsm2 opensc chromium rsyslog rsyslog-gnutls
# The offline Go vulnerability database of this team's machines; the public
# one elsewhere.
VULNDB_DIR := $(abspath ../shared/data/govulndb)
VULNDB := $(if $(wildcard $(VULNDB_DIR)/index/db.json),-db file://$(VULNDB_DIR),)

.PHONY: check deps tools lint vet staticcheck vulncheck test fuzz bench build demo

check: deps tools lint vet staticcheck vulncheck test

build:
	$(GO) build ./...

demo:
	$(GO) run ./cmd/medguardd --demo

# Install the Debian packages the integration tests need, if any is missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

tools:
	@test -x $(GOBIN)/staticcheck && $(GOBIN)/staticcheck -version | grep -q '$(STATICCHECK_VERSION:v%=%)' || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@test -x $(GOBIN)/govulncheck && $(GOBIN)/govulncheck -version | grep -q '$(GOVULNCHECK_VERSION)' || GOFLAGS= $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GOBIN)/staticcheck ./...

vulncheck:
	$(GOBIN)/govulncheck $(VULNDB) ./...

test:
	MEDGUARD_INTEGRATION=1 $(GO) test -race -timeout 20m ./...

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	scripts/bench-integrity.sh
