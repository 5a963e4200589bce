# kubescim Makefile. Every tool is pinned and installed into bin/ by the project itself.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_TOOLS_VERSION ?= v0.20.1
HELM_VERSION ?= v3.19.0
MEMBERS ?= 0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
NEWMAN_VERSION ?= 6.2.2
NEWMAN ?= $(LOCALBIN)/newman/node_modules/.bin/newman
GO_TEST_FLAGS ?= -count=1
TEST_TIMEOUT ?= 14m

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: dev
dev: build envtest ## Run kubescim on an embedded control plane (writes .dev/kubeconfig and .dev/token; MEMBERS=N adds a fleet of N member clusters; extra flags in DEV_FLAGS).
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" $(LOCALBIN)/kubescim dev --dir .dev --members $(MEMBERS) $(DEV_FLAGS)

.PHONY: generate
generate: controller-gen ## Generate deepcopy code, CRDs and RBAC (one role per component), and sync them into the chart.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."
	$(CONTROLLER_GEN) crd paths="./api/..." output:crd:artifacts:config=config/crd/bases
	@# Each component gets exactly the RBAC its own code's markers ask for.
	$(CONTROLLER_GEN) rbac:roleName=kubescim-scim paths="./scimserver/..." output:rbac:artifacts:config=config/rbac/scim
	$(CONTROLLER_GEN) rbac:roleName=kubescim-controller paths="./controllers;./controllers/authz;./controllers/registry" output:rbac:artifacts:config=config/rbac/controller
	$(CONTROLLER_GEN) rbac:roleName=kubescim-member paths="./controllers/fleet/..." output:rbac:artifacts:config=config/rbac/member
	$(CONTROLLER_GEN) rbac:roleName=kubescim-cleanup paths="." output:rbac:artifacts:config=config/rbac/cleanup
	hack/sync-chart.sh

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: test
test: envtest helm newman ## Run unit and envtest integration tests (real kube-apiserver + etcd).
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go test $(GO_TEST_FLAGS) -timeout $(TEST_TIMEOUT) ./...

.PHONY: e2e
e2e: envtest helm ## Run only the end-to-end tests (dev cluster, the real binary, fault injection); make test runs them too.
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go test $(GO_TEST_FLAGS) -timeout $(TEST_TIMEOUT) -v ./hack/e2e/

.PHONY: bench
bench: envtest ## Run benchmarks and print their figures.
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go test -run '^$$' -bench . -benchmem -timeout 30m ./...

.PHONY: fuzz
fuzz: ## Run the SCIM parser fuzz targets for a short while each.
	hack/fuzz.sh

.PHONY: verify
verify: generate ## Regenerate everything and fail if the tree changed.
	go mod tidy
	gofmt -l . | (! grep .) || (echo "gofmt needed on the files above" && exit 1)
	git diff --exit-code -- . ':!bin' || (echo "generated files are out of date: run make generate and commit" && exit 1)
	@test -z "$$(git status --porcelain --untracked-files=all -- config charts api)" || (git status --short -- config charts api; echo "untracked generated files"; exit 1)

##@ Build

.PHONY: build
build: ## Build the kubescim binary and the kubectl-scim plugin into bin/.
	go build -o $(LOCALBIN)/kubescim .
	go build -o $(LOCALBIN)/kubectl-scim ./cmd/kubectl-scim

##@ Tools

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd and kube-controller-manager from source into bin/k8s (once).
	hack/setup-envtest.sh >/dev/null

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $@

.PHONY: newman
newman: $(NEWMAN) ## Install newman, which runs Microsoft's SCIM Postman collection in the tests.
$(NEWMAN):
	npm install --no-audit --no-fund --prefix $(LOCALBIN)/newman newman@$(NEWMAN_VERSION)

.PHONY: helm
helm: $(HELM)
$(HELM):
	GOBIN=$(LOCALBIN) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(LOCALBIN)/helm $@
