#!/usr/bin/env bash
# memvox's MCP server driven by the official MCP Python SDK: starts `memvox serve` (debug build,
# a fresh SQLite store, its own port and tokens) and runs services/query/tests/mcp_client.py
# against /mcp — both connection modes, initialize or negotiation, tools/list, every tool, the
# caller binding and errors. Installs the pinned SDK into $HOME/.cache/memvox/mcp-venv on first
# run (about 20 s from PyPI); later runs reuse it and take a few seconds.
# Usage: scripts/test-mcp-client.sh   (exit 1 on a failed check)
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${MEMVOX_DEPLOY_CACHE:-$HOME/.cache/memvox}"
VENV="$CACHE/mcp-venv"
PY_PKGS=(mcp==2.3.0)
stamp="$VENV/.installed-$(printf '%s ' "${PY_PKGS[@]}" | sha256sum | cut -c1-16)"
if [[ ! -f $stamp ]]; then
  printf '    installing %s into %s (PyPI)\n' "${PY_PKGS[*]}" "$VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}"
  touch "$stamp"
fi

cargo build --locked -q -p memvox
bin="${CARGO_TARGET_DIR:-target}/debug/memvox"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
sha() { printf %s "$1" | sha256sum | cut -c1-64; }
admin="mcp-admin-$RANDOM$RANDOM" tool="mcp-tool-$RANDOM$RANDOM" secret="mcp-init-$RANDOM$RANDOM"

MEMVOX_HTTP__LISTEN="127.0.0.1:$port" \
MEMVOX_STORE__URL="sqlite://$work/memvox.db" \
MEMVOX_QUERY__ADMIN_TOKEN_SHA256="[\"$(sha "$admin")\"]" \
MEMVOX_QUERY__TOOL_TOKEN_SHA256="[\"$(sha "$tool")\"]" \
MEMVOX_QUERY__INIT_SECRETS="[\"$secret\"]" \
MEMVOX_QUERY__MCP_ADMIN=true \
MEMVOX_LOG__FILTER=warn \
  "$bin" serve >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT

base="http://127.0.0.1:$port"
"$bin" wait-for --timeout-secs 30 "$base/health/ready" >/dev/null \
  || { cat "$work/serve.log" >&2; exit 1; }
"$VENV/bin/python" services/query/tests/mcp_client.py "$base" "$admin" "$tool" "$secret" \
  || { printf '\n--- memvox serve log ---\n' >&2; cat "$work/serve.log" >&2; exit 1; }
