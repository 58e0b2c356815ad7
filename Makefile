# kubectl hopsdeploy. The README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# Pinned in one place: the real parts that tests, the sandbox and the demo run.
K8S_VERSION        ?= v1.37.2
ETCD_VERSION       ?= v3.6.16
KREW_VERSION       ?= v0.4.3
# k9s's plugin schemas (from its module, not its binary): the plugin file is checked as k9s
# reads it.
K9S_VERSION        ?= v0.50.16
OPENSEARCH_VERSION ?= 2.19.6
# The second test OpenSearch, with the security plugin: the plugin's version must equal the
# server's, and Maven Central serves opensearch-security 2.19.4.0 but not 2.19.6.0.
OPENSEARCH_SECURED_VERSION ?= 2.19.4
STERN_VERSION      ?= v1.33.0
# The living cluster: kube-scheduler and kube-controller-manager (K8S_VERSION) and KWOK.
KWOK_VERSION       ?= v0.8.0
KSERVE_VERSION     ?= v0.15.2
# Knative Serving (KServe's Serverless mode): v0.42.2 is the newest whose dependencies the module
# proxy serves whole (v0.51.0 needs a knative.dev/networking it does not serve).
KNATIVE_VERSION    ?= v0.42.2
# Linters (make lint), from the Go module proxy. VULNDB_VERSION is the snapshot of Go's
# vulnerability database that govulncheck reads: move it forward to learn of new advisories.
STATICCHECK_VERSION ?= v0.8.2
GOVULNCHECK_VERSION ?= v1.9.0
VULNDB_VERSION      ?= v0.0.0-20261105234957-e22db6528018

CACHE   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/hopsdeploy
TESTBIN ?= $(CACHE)/testbin/k8s-$(K8S_VERSION)_etcd-$(ETCD_VERSION)_krew-$(KREW_VERSION)
LIVING  ?= $(CACHE)/living/k8s-$(K8S_VERSION)_kwok-$(KWOK_VERSION)_kserve-$(KSERVE_VERSION)_knative-$(KNATIVE_VERSION)
LINTBIN ?= $(CACHE)/lint/staticcheck-$(STATICCHECK_VERSION)_govulncheck-$(GOVULNCHECK_VERSION)
export K8S_VERSION ETCD_VERSION KREW_VERSION K9S_VERSION KWOK_VERSION KSERVE_VERSION KNATIVE_VERSION OPENSEARCH_VERSION OPENSEARCH_SECURED_VERSION TESTBIN LIVING STATICCHECK_VERSION GOVULNCHECK_VERSION VULNDB_VERSION
# The Go toolchain that builds the plugin: go.mod's toolchain line (patch releases carry the
# standard library's security fixes that govulncheck checks for), fetched from the module
# proxy when the machine's Go is older.
export GOTOOLCHAIN := auto

MODULE  := github.com/hopsdeploy/kubectl-hopsdeploy
VERSION ?= $(shell git describe --tags --match 'v*' 2>/dev/null || echo v0.1.0)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The commit's date, not the build's, so that a commit builds the same archives again.
DATE    ?= $(shell git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(MODULE)/pkg/version.Version=$(VERSION) -X $(MODULE)/pkg/version.Commit=$(COMMIT) -X $(MODULE)/pkg/version.Date=$(DATE)

# The OpenSearch that `make test` starts for the test run.
TEST_OS_PORT ?= 19250
TEST_OS_DIR  ?= /tmp/hopsdeploy-test-opensearch
TEST_SECURED_OS_PORT ?= 19251
TEST_SECURED_OS_DIR  ?= /tmp/hopsdeploy-test-opensearch-secured

.PHONY: build
build: ## build bin/kubectl-hopsdeploy
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/kubectl-hopsdeploy ./cmd/kubectl-hopsdeploy

.PHONY: testbin
testbin: ## build etcd, kube-apiserver, kubectl, krew into the cache (skipped when there)
	hack/provision-test-env.sh $(TESTBIN)

.PHONY: living
living: ## build kube-scheduler, kube-controller-manager, KWOK, the KServe controller and Knative Serving into the cache (skipped when there)
	hack/provision-living-cluster.sh $(LIVING)

.PHONY: opensearch
opensearch: ## fetch OpenSearch, and the one with the security plugin, from Maven Central into the cache
	hack/opensearch.sh install
	hack/opensearch-secured.sh install

# The integration tests build only with the tag "integration" (make test-integration), so that
# a plain go test ./... neither runs them nor reports them skipped and green.
UNIT_PKGS = ./...

.PHONY: test-unit
test-unit: ## the fast layer: the pure core, printers (golden files), the log engine on fakes, flags (under 30 s warm)
	go test -count=1 $(UNIT_PKGS)

.PHONY: test
test: test-unit test-integration ## run every test: unit first, then integration against the real API server, kubectl, krew and OpenSearch

RUN ?= .
.PHONY: chromium
chromium: ## Debian's Chromium, for the test that opens report.html in a headless browser (apt, when missing)
	hack/chromium.sh

.PHONY: test-integration
test-integration: testbin living opensearch chromium ## the integration tests with their parts (RUN=TestX for some: go test -run)
	TEST_OS_PORT=$(TEST_OS_PORT) TEST_OS_DIR=$(TEST_OS_DIR) TEST_SECURED_OS_PORT=$(TEST_SECURED_OS_PORT) TEST_SECURED_OS_DIR=$(TEST_SECURED_OS_DIR) \
	  hack/test-integration.sh '$(RUN)'

.PHONY: lint-tools
lint-tools: ## install staticcheck, govulncheck and the vulnerability database into the cache
	hack/lint-tools.sh $(LINTBIN)

.PHONY: lint
lint: lint-tools ## gofmt, go vet, go mod tidy, staticcheck and govulncheck
	hack/lint.sh $(LINTBIN)

.PHONY: sandbox
sandbox: build testbin living opensearch ## start the living cluster (etcd, the API server, scheduler, controller-manager, KServe controller, KWOK), OpenSearch, and OpenSearch with the security plugin behind a Hopsworks stand-in (SANDBOX_SECURED=0: not those) in the background
	hack/sandbox.sh up

.PHONY: sandbox-down
sandbox-down: ## stop exactly the sandbox's processes
	hack/sandbox.sh down

.PHONY: demo
demo: ## the main job on the sandbox: build, start, seed deployments, install with krew, run the plugin
	VERSION=$(VERSION) hack/demo.sh

.PHONY: dist
dist: ## release archives for linux/darwin amd64/arm64 and windows amd64, with checksums
	VERSION=$(VERSION) LDFLAGS='$(LDFLAGS)' hack/dist.sh

.PHONY: krew-manifest
krew-manifest: dist testbin ## plugins/hopsdeploy.yaml from the built archives, validated
	VERSION=$(VERSION) hack/krew-manifest.sh
	$(TESTBIN)/validate-krew-manifest -manifest plugins/hopsdeploy.yaml -skip-install

STERN ?= $(CACHE)/bin/stern-$(STERN_VERSION)
export STERN

$(STERN):
	mkdir -p $(CACHE)/bin && GOBIN=$(CACHE)/bin go install github.com/stern/stern@$(STERN_VERSION) && mv $(CACHE)/bin/stern $(STERN)

.PHONY: bench bench-check bench-logs bench-follow bench-soak bench-history bench-status
BENCHES ?= startup status remote status-big status-crowd list logs follow latency history history-secured
bench: build testbin living opensearch $(STERN) ## every benchmark, side by side with kubectl and stern, in one run, each goal beside its ratio
	hack/bench.sh $(BENCHES)
bench-check: build testbin living opensearch $(STERN) ## make bench, failing when a ratio misses its goal (to see a regression)
	BENCH_FLAGS="$(BENCH_FLAGS) -check" hack/bench.sh $(BENCHES)
bench-logs: build testbin living opensearch $(STERN) ## live logs: the plugin against kubectl logs and stern
	hack/bench.sh logs
bench-follow: build testbin living opensearch $(STERN) ## following 300 streams, 5 alternated runs of 30 s each tool, and the delay of a line, beside kubectl logs -f and stern
	hack/bench.sh follow latency
bench-soak: build testbin living opensearch $(STERN) ## following for 30 minutes (BENCH_FLAGS=-soak-minutes N) while the pods are replaced every minute: every line, heap, stacks and CPU a line flat
	hack/bench.sh follow-soak
bench-history: build testbin living opensearch $(STERN) ## history export: the plugin against a bare search_after loop
	hack/bench.sh history
bench-status: build testbin living opensearch $(STERN) ## status against the equivalent kubectl get
	hack/bench.sh status

FUZZTIME ?= 30s
.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (their seed corpora run in make test)
	hack/fuzz.sh $(FUZZTIME)

.PHONY: clean
clean:
	rm -rf bin dist

.PHONY: help
help:
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'
