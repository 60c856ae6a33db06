#!/usr/bin/env bash
# memvox's MCP server driven by the official MCP Python SDK: starts `memvox serve` (debug build,
# a fresh SQLite store, its own port and tokens) and runs services/query/tests/mcp_client.py
# against /mcp — both connection modes, initialize or negotiation, tools/list, every tool, the
# caller binding and errors. Installs the pinned SDK into $HOME/.cache/memvox/mcp-venv on first
# run (about 20 s from PyPI); later runs reuse it and take a few seconds.
# Usage: scripts/test-mcp-client.sh   (exit 1 on a failed check)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/serve.sh

VENV="${MEMVOX_DEPLOY_CACHE:-$HOME/.cache/memvox}/mcp-venv"
pinned_venv "$VENV" mcp==2.3.0

admin="mcp-admin-$RANDOM$RANDOM" tool="mcp-tool-$RANDOM$RANDOM" secret="mcp-init-$RANDOM$RANDOM"
start_serve 127.0.0.1 \
  MEMVOX_QUERY__ADMIN_TOKEN_SHA256="[\"$(sha256_hex "$admin")\"]" \
  MEMVOX_QUERY__TOOL_TOKEN_SHA256="[\"$(sha256_hex "$tool")\"]" \
  MEMVOX_QUERY__INIT_SECRETS="[\"$secret\"]" \
  MEMVOX_QUERY__MCP_ADMIN=true

"$VENV/bin/python" services/query/tests/mcp_client.py "$BASE" "$admin" "$tool" "$secret" \
  || serve_log_and_fail
