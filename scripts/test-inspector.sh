#!/usr/bin/env bash
# The memory inspector (/ui) in a real browser: starts `memvox serve` (debug build, a fresh SQLite
# store, its own port and tokens), posts the fixture call to the signed post-call webhook, and runs
# services/query/tests/inspector_browser.py with Debian's headless Chromium through WebDriver: the
# page loads behind the sign-in, a search returns the expected memory, an edit round-trips,
# erasure asks first. Installs Debian's chromium and chromium-driver (apt) and the pinned selenium
# client into $HOME/.cache/memvox/inspector-venv (PyPI) on first run; later runs take seconds.
# Usage: scripts/test-inspector.sh [--screenshots]   (--screenshots: write the pages to docs/)
set -euo pipefail
cd "$(dirname "$0")/.."

shots_to_docs=false
[[ ${1:-} == --screenshots ]] && shots_to_docs=true

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
if ((${#need_apt[@]})); then
  printf '    installing %s (apt)\n' "${need_apt[*]}" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

CACHE="${MEMVOX_DEPLOY_CACHE:-$HOME/.cache/memvox}"
VENV="$CACHE/inspector-venv"
PY_PKGS=(selenium==4.51.0)
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
admin="ui-admin-$RANDOM$RANDOM" webhook="ui-webhook-$RANDOM$RANDOM"

MEMVOX_HTTP__LISTEN="127.0.0.1:$port" \
MEMVOX_STORE__URL="sqlite://$work/memvox.db" \
MEMVOX_QUERY__ADMIN_TOKEN_SHA256="[\"$(sha "$admin")\"]" \
MEMVOX_GATEWAY__WEBHOOK_SECRETS="[\"$webhook\"]" \
MEMVOX_LOG__FILTER=warn \
  "$bin" serve >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT

# The browser reaches the inspector by a loopback name, where its session cookie need not be Secure.
base="http://localhost:$port"
"$bin" wait-for --timeout-secs 30 "$base/health/ready" >/dev/null \
  || { cat "$work/serve.log" >&2; exit 1; }

# The fixture's call (caller +14155550199), signed as ElevenLabs signs it.
fixture=fixtures/elevenlabs/post_call_transcription.json
signature="$(python3 - "$webhook" "$fixture" <<'PY'
import hashlib, hmac, sys, time
secret, path = sys.argv[1], sys.argv[2]
t = str(int(time.time()))
mac = hmac.new(secret.encode(), t.encode() + b"." + open(path, "rb").read(), hashlib.sha256)
print(f"t={t},v0={mac.hexdigest()}")
PY
)"
curl -fsS -o /dev/null -X POST "$base/webhook/post-call" -H 'content-type: application/json' \
  -H "elevenlabs-signature: $signature" --data-binary "@$fixture" \
  || { cat "$work/serve.log" >&2; exit 1; }

shots="$work/shots"
mkdir -p "$shots"
"$VENV/bin/python" services/query/tests/inspector_browser.py "$base" "$admin" "+14155550199" "$shots" \
  || { printf '\n--- memvox serve log ---\n' >&2; cat "$work/serve.log" >&2; exit 1; }
if $shots_to_docs; then
  cp "$shots"/*.png docs/
  printf '    screenshots written to docs/: %s\n' "$(cd "$shots" && echo *.png)" >&2
fi
