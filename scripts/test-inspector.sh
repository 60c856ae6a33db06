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
source scripts/lib/serve.sh

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

VENV="${MEMVOX_DEPLOY_CACHE:-$HOME/.cache/memvox}/inspector-venv"
pinned_venv "$VENV" selenium==4.51.0

admin="ui-admin-$RANDOM$RANDOM" webhook="ui-webhook-$RANDOM$RANDOM"
# The browser reaches the inspector by a loopback name, where its session cookie need not be Secure.
start_serve localhost \
  MEMVOX_QUERY__ADMIN_TOKEN_SHA256="[\"$(sha256_hex "$admin")\"]" \
  MEMVOX_GATEWAY__WEBHOOK_SECRETS="[\"$webhook\"]"

# The fixture's call (caller +14155550199), signed as ElevenLabs signs it, to the post-call webhook.
python3 - "$BASE" "$webhook" fixtures/elevenlabs/post_call_transcription.json <<'PY' || serve_log_and_fail
import hashlib, hmac, sys, time, urllib.request
base, secret, path = sys.argv[1:4]
body, t = open(path, "rb").read(), str(int(time.time()))
signature = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
headers = {"content-type": "application/json", "elevenlabs-signature": f"t={t},v0={signature}"}
request = urllib.request.Request(f"{base}/webhook/post-call", data=body, headers=headers)
urllib.request.urlopen(request, timeout=10).read()
PY

shots="$WORK/shots"
mkdir -p "$shots"
"$VENV/bin/python" services/query/tests/inspector_browser.py "$BASE" "$admin" "+14155550199" "$shots" \
  || serve_log_and_fail
if $shots_to_docs; then
  cp "$shots"/*.png docs/
  printf '    screenshots written to docs/: %s\n' "$(cd "$shots" && echo *.png)" >&2
fi
