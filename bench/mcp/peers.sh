#!/usr/bin/env bash
# Installs the peers of the MCP → MCP proxying benchmark (bench/mcp/proxy.bench.ts) into
# bench/.peers/ (ignored by git): npm `mcp-proxy` and `supergateway`, PyPI `mcp-proxy` and
# `mcp-contextforge-gateway` (ContextForge) in a virtual environment each. A peer that fails to
# install is written to bench/.peers/status/<name> as `failed: <reason>` (the benchmark reports
# it as such); nothing stops at the first failure. Re-running skips peers already installed.
#
#   bash bench/mcp/peers.sh
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PEERS="$ROOT/bench/.peers"
mkdir -p "$PEERS/status" "$PEERS/logs"
PY="${PYTHON:-python3}"

ok() { echo "ok: $2" > "$PEERS/status/$1"; echo "[peers] $1 ok ($2)"; }
failed() { echo "failed: $2" > "$PEERS/status/$1"; echo "[peers] $1 FAILED: $2" >&2; }

# npm peers, pinned versions, in one prefix.
npm_peer() { # name package@version bin
  local name=$1 pkg=$2 bin=$3
  if [ -x "$PEERS/npm/node_modules/.bin/$bin" ]; then ok "$name" "$PEERS/npm/node_modules/.bin/$bin"; return; fi
  mkdir -p "$PEERS/npm"
  [ -f "$PEERS/npm/package.json" ] || echo '{"private":true}' > "$PEERS/npm/package.json"
  if npm install --prefix "$PEERS/npm" --no-audit --no-fund --loglevel=error "$pkg" >"$PEERS/logs/$name.log" 2>&1 \
     && [ -x "$PEERS/npm/node_modules/.bin/$bin" ]; then
    ok "$name" "$PEERS/npm/node_modules/.bin/$bin"
  else
    failed "$name" "npm install $pkg: $(tail -n 3 "$PEERS/logs/$name.log" | tr '\n' ' ')"
  fi
}

# PyPI peers, each in a venv of its own.
py_peer() { # name requirement bin [python]
  local name=$1 req=$2 bin=$3 py=${4:-$PY} venv="$PEERS/$1"
  if [ -x "$venv/bin/$bin" ]; then ok "$name" "$venv/bin/$bin"; return; fi
  if [ -z "$py" ]; then failed "$name" "no suitable python found"; return; fi
  rm -rf "$venv"
  if ! "$py" -m venv "$venv" >"$PEERS/logs/$name.log" 2>&1; then failed "$name" "$py -m venv failed"; return; fi
  if "$venv/bin/pip" install --disable-pip-version-check -q "$req" >>"$PEERS/logs/$name.log" 2>&1 && [ -x "$venv/bin/$bin" ]; then
    ok "$name" "$venv/bin/$bin"
  else
    failed "$name" "pip install $req: $(tail -n 3 "$PEERS/logs/$name.log" | tr '\n' ' ')"
  fi
}

npm_peer npm-mcp-proxy mcp-proxy@6 mcp-proxy
npm_peer supergateway supergateway@3 supergateway
py_peer py-mcp-proxy 'mcp-proxy==0.13.0' mcp-proxy
# ContextForge 1.x requires Python >= 3.12 and < 3.14.
py312() {
  for c in python3.13 python3.12 "$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if (3,12) <= sys.version_info[:2] < (3,14) else 1)' 2>/dev/null; then echo "$c"; return; fi
  done
}
py_peer contextforge 'mcp-contextforge-gateway==1.1.0' mcpgateway "$(py312)"
exit 0
