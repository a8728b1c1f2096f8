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

.PHONY: typecheck
typecheck: setup ## strict TypeScript check of all code (tsc --noEmit)
	tsc -p tsconfig.json

.PHONY: test
test: setup ## run the whole test suite (typecheck, then vitest)
	tsc -p tsconfig.json
	vitest run

.PHONY: validate
validate: setup ## render every approach and check every object (schemas, policy); no cluster needed
	$(NODE) tasks/validate/cli.ts
