# Sourced by the scripts that drive a real `memvox serve` with an outside client
# (test-mcp-client.sh, test-inspector.sh): a pinned Python virtualenv, and a fresh server.

# shellcheck source=scripts/lib/cargo.sh
source "$(dirname "${BASH_SOURCE[0]}")/cargo.sh"

# pinned_venv VENV PACKAGE==VERSION...: a virtualenv at VENV holding the pinned packages, installed
# from PyPI on first use (and again when the pins change); later calls reuse it.
pinned_venv() {
  local venv=$1; shift
  local stamp
  stamp="$venv/.installed-$(printf '%s ' "$@" | sha256sum | cut -c1-16)"
  if [[ ! -f $stamp ]]; then
    printf '    installing %s into %s (PyPI)\n' "$*" "$venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$@"
    touch "$stamp"
  fi
}

# sha256_hex TEXT: what to configure for a token (query.*_token_sha256).
sha256_hex() { printf %s "$1" | sha256sum | cut -c1-64; }

# start_serve HOST [NAME=VALUE...]: builds memvox (debug, as the test suite builds it) and starts `memvox serve` on a free port
# of 127.0.0.1 with a fresh SQLite store in a temporary directory and the given MEMVOX_* settings;
# waits until it is ready. Sets BASE (http://HOST:port), WORK (the directory) and SERVE_LOG; the
# server is stopped and the directory deleted when the script exits, and so are the processes
# whose ids the script put in SIDE_PIDS (a fake upstream started before the server).
start_serve() {
  local host=$1; shift
  build_binaries
  local bin="${CARGO_TARGET_DIR:-target}/debug/memvox" port
  WORK="$(mktemp -d)"
  SERVE_LOG="$WORK/serve.log"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  # MEMVOX_DEPLOY_CACHE (where the scripts keep their installs) is no memvox setting: memvox
  # reads every MEMVOX_* variable and would refuse to start on it.
  env -u MEMVOX_DEPLOY_CACHE \
    MEMVOX_HTTP__LISTEN="127.0.0.1:$port" MEMVOX_STORE__URL="sqlite://$WORK/memvox.db" \
    MEMVOX_LOG__FILTER=warn "$@" "$bin" serve >"$SERVE_LOG" 2>&1 &
  SERVE_PID=$!
  trap 'kill "$SERVE_PID" ${SIDE_PIDS:-} 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
  BASE="http://$host:$port"
  "$bin" wait-for --timeout-secs 30 "$BASE/health/ready" >/dev/null \
    || { cat "$SERVE_LOG" >&2; exit 1; }
}

# serve_log_and_fail: prints the server's log and exits 1 (after a failed check).
serve_log_and_fail() {
  printf '\n--- memvox serve log ---\n' >&2
  cat "$SERVE_LOG" >&2
  exit 1
}
