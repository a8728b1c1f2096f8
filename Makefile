# korthweb — the front door. `make help` lists every target.
# Every target that runs project code depends on `setup`, which is idempotent.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Node 22 from .tools/node when the machine's is older (see tasks/setup/node.sh),
# then the project's npm binaries (tsc, vitest).
export PATH := $(CURDIR)/.tools/node/node_modules/.bin:$(CURDIR)/node_modules/.bin:$(PATH)
NODE := node

.PHONY: help
help: ## list every target with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: setup
setup: ## install Node 22 (if needed), npm deps, pinned helm + kubectl into .tools (idempotent)
	@bash tasks/setup/setup.sh

.PHONY: setup-go-tools
setup-go-tools: setup ## build pinned Go CLIs (istioctl, kwok, kubeconform, gitleaks, helm-unittest, helm-docs) into .tools/bin from the Go module proxy (cached)
	@$(NODE) tasks/setup/go-tools.ts

.PHONY: typecheck
typecheck: setup ## strict TypeScript check of all code (tsc --noEmit)
	tsc -p tsconfig.json

.PHONY: test
test: setup setup-go-tools cluster-build real-node-build local-packages ## run the whole test suite (typecheck, then vitest; includes the simulated-cluster and real-node tiers)
	tsc -p tsconfig.json
	vitest run

.PHONY: audit
audit: setup ## security audit: rendered approaches, repository scan (gitleaks), live TLS/REST/DICOM checks of the local stack (ARGS="--target kube" for a cluster)
	@$(NODE) tasks/setup/go-tools.ts --only gitleaks
	$(NODE) proving-ground/audit/cli.ts $(ARGS)

.PHONY: validate
validate: setup ## render every approach and check every object (kubeconform -strict schemas, policy); no cluster needed
	@$(NODE) tasks/setup/go-tools.ts --only kubeconform
	$(NODE) proving-ground/validate/cli.ts

# --- helm approach (issue 3; docs/helm.md). ARGS passes flags, e.g. ARGS="--domain pacs.example"; VALUES=my.yaml adds values for helm/orthanc.

.PHONY: helm-install
helm-install: setup ## helm approach: Traefik, PostgreSQL and the orthanc chart, waits, prints endpoints (DRY_RUN=1: plan only)
	$(NODE) tasks/helm/install.ts $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(if $(VALUES),--values $(VALUES)) $(ARGS)

.PHONY: helm-uninstall
helm-uninstall: setup ## remove the helm approach; the database volume and its Secrets stay unless PURGE=1
	$(NODE) tasks/helm/uninstall.ts $(if $(filter 1,$(PURGE)),--purge) $(ARGS)

.PHONY: chart-docs
chart-docs: setup-go-tools ## regenerate helm/orthanc/values.schema.json and README.md (helm-docs) from the annotated values.yaml
	$(NODE) tasks/helm/chart-docs.ts

.PHONY: helm-template
helm-template: setup ## print what helm/orthanc renders with its defaults (VALUES=my.yaml to add yours)
	$(CURDIR)/.tools/bin/helm template orthanc helm/orthanc --namespace orthanc $(if $(VALUES),-f $(VALUES))

# --- local stack, smoke suite, benchmark (issue 4; docs/smoke.md). ARGS passes flags, e.g. ARGS="--https-port 8443".

.PHONY: demo
demo: setup ## the product on this machine: embedded cluster with a real node (root; first run builds it, ~40 min), helm approach, make smoke, endpoints
	$(NODE) proving-ground/real-node/demo.ts $(ARGS)

.PHONY: demo-down
demo-down: setup ## stop the demo's cluster: pods, real node, control plane; its data goes with it; host restored
	$(NODE) proving-ground/real-node/demo-down.ts $(ARGS)

.PHONY: local-up
local-up: setup ## fast configuration check without containers: the chart's Orthanc config in Debian Orthanc + PostgreSQL behind haproxy TLS (443, 11112), then smoke
	$(NODE) proving-ground/local/up.ts $(ARGS)

.PHONY: local-down
local-down: setup ## stop the local stack of make local-up; data kept unless DELETE_DATA=1
	$(NODE) proving-ground/local/down.ts $(if $(filter 1,$(DELETE_DATA)),--delete-data) $(ARGS)

.PHONY: smoke
smoke: setup ## end-to-end checks: TLS, HTTPS REST, DICOM-TLS C-ECHO/C-STORE, round trip (local stack, kube, or --host)
	$(NODE) smoke/cli.ts $(ARGS)

.PHONY: bench
bench: setup ## C-STORE throughput and latency through the TLS terminator and directly, vs dcmtk storescu
	$(NODE) smoke/bench-cli.ts $(ARGS)

.PHONY: modality-cert
modality-cert: setup ## client certificate for one modality (mutual TLS on 11112): NAME=ct-scanner-1, ARGS="--approach local|helm|manual|gitops --tenant T"
	$(NODE) tasks/modality/cert.ts $(if $(NAME),--name $(NAME)) $(ARGS)

.PHONY: local-packages
local-packages: setup ## install the local stack's Debian packages with apt-get (as root; make local-up does it too)
	$(NODE) proving-ground/local/01-packages.ts

# --- backups (issue 18; docs/backup.md). The local stack of make local-up by default; TARGET=kube: the release in the kube context. ARGS passes flags.

.PHONY: backup
backup: setup ## back up the Orthanc database now (pg_dump, large objects included), wait, print where and how big (TARGET=kube; DRY_RUN=1: plan only)
ifeq ($(TARGET),kube)
	$(NODE) tasks/backup/backup.ts $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(ARGS)
else
	$(NODE) proving-ground/local/backup-cli.ts $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(ARGS)
endif

.PHONY: restore
restore: setup ## restore FROM=<dump>: new database, stop Orthanc, switch (old one kept), start, verify; CONFIRM=1 replaces data (TARGET=kube; DRY_RUN=1)
ifeq ($(TARGET),kube)
	$(NODE) tasks/backup/restore.ts --from "$(FROM)" $(if $(filter 1 yes true,$(CONFIRM)),--yes-replace) $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(ARGS)
else
	$(NODE) proving-ground/local/restore-cli.ts --from "$(FROM)" $(if $(filter 1 yes true,$(CONFIRM)),--yes-replace) $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(ARGS)
endif

.PHONY: backup-bench
backup-bench: setup local-packages ## backup and restore of ~1 GB of DICOM on a scratch local stack: figures printed (SIZE_MB=1024), not asserted
	$(NODE) proving-ground/backup/bench.ts $(if $(SIZE_MB),--size-mb $(SIZE_MB)) $(ARGS)

# --- manual approach (issue 5; docs/manual.md). ARGS passes flags, e.g. ARGS="--timeout 900"; ISTIO_INSTALLER=istioctl installs Istio with istioctl.

.PHONY: manual-install
manual-install: setup ## manual approach: Istio, cert-manager CA chain, PostgreSQL, Orthanc, mTLS + policies, observability, smoke (DRY_RUN=1: plan only)
	$(NODE) tasks/manual/install.ts $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(ARGS)

.PHONY: manual-uninstall
manual-uninstall: setup ## remove the manual approach; data, credentials, CA and namespaces stay unless PURGE=1
	$(NODE) tasks/manual/uninstall.ts $(if $(filter 1,$(PURGE)),--purge) $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(ARGS)

.PHONY: manual-render
manual-render: setup ## re-render manual/ YAML from helm/orthanc with manual/05-orthanc/orthanc.values.yaml (after changing either)
	$(NODE) tasks/manual/render.ts

.PHONY: manual-grafana
manual-grafana: setup ## port-forward Grafana to 127.0.0.1:3000 and print the URL and login (Ctrl-C stops)
	$(NODE) tasks/manual/console.ts --open grafana $(ARGS)

.PHONY: manual-kiali
manual-kiali: setup ## port-forward Kiali to 127.0.0.1:20001 and print the URL and login (Ctrl-C stops)
	$(NODE) tasks/manual/console.ts --open kiali $(ARGS)

# --- gitops approach (issue 6; docs/gitops.md). ARGS passes flags, e.g. ARGS="--url https://github.com/YOU/korthweb --branch main".

.PHONY: gitops-install
gitops-install: setup ## gitops approach: Flux from its pinned install.yaml, your fork as source, tenants' Secrets, waits, summary, smoke (DRY_RUN=1: plan only)
	$(NODE) tasks/gitops/install.ts $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(ARGS)

.PHONY: gitops-uninstall
gitops-uninstall: setup ## remove the gitops approach in reverse order; tenants' namespaces (data, Secrets) stay unless PURGE=1
	$(NODE) tasks/gitops/uninstall.ts $(if $(filter 1,$(PURGE)),--purge) $(if $(filter-out 0 false no,$(DRY_RUN)),--dry-run) $(ARGS)

.PHONY: gitops-check
gitops-check: setup ## offline checks of the Flux tree: graph, tenant lockdown and isolation, pins, mesh policies (exact flows), tenants' chart values validated
	@$(NODE) tasks/setup/go-tools.ts --only kubeconform
	$(NODE) proving-ground/checks/gitops/verify.ts $(ARGS)

# --- simulated cluster (issue 8; docs/cluster.md): a real control plane with simulated nodes, for the install tasks in tests.

.PHONY: cluster-build
cluster-build: setup ## build kube-apiserver/-controller-manager/-scheduler, etcd, kwok from the Go module proxy (cached outside the repo)
	$(NODE) proving-ground/cluster/build.ts

.PHONY: real-node-build
real-node-build: setup ## build what `cluster-up ARGS=--real-node` runs: kubelet, kube-proxy, CoreDNS, MetalLB, provisioner, Traefik, images, extras (cert-manager) (cached)
	$(NODE) proving-ground/real-node/build.ts

.PHONY: cluster-up
cluster-up: setup ## start the simulated cluster on 127.0.0.1 (builds first), nodes, CRDs (ARGS=--real-node: one real node, as root; ARGS="--real-node --with cert-manager": and cert-manager); kubeconfig in .work/cluster/kubeconfig
	$(NODE) proving-ground/cluster/up.ts $(ARGS)

.PHONY: cluster-down
cluster-down: setup ## stop the cluster (and the real node, restoring the host) and delete its state (the built binaries stay cached)
	$(NODE) proving-ground/cluster/down.ts $(ARGS)
