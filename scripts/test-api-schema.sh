#!/usr/bin/env bash
# The HTTP API against its own description: starts `memvox serve` (debug build, a fresh SQLite
# store, its own port and tokens, rate limits off, the custom-LLM proxy on in front of a fake
# upstream), seeds callers, memories and a signed call through the real API, then runs a pinned
# schemathesis on /openapi.json: every check, the examples, coverage, fuzzing and stateful
# (OpenAPI links) phases, a fixed seed and a bounded number of cases per operation. Any failure
# fails the script. Installs schemathesis into $HOME/.cache/memvox/schema-venv on first run
# (about 20 s from PyPI); later runs reuse it.
# Usage: scripts/test-api-schema.sh [extra `st run` arguments]   (exit 1 on any failure)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/serve.sh

VENV="${MEMVOX_DEPLOY_CACHE:-$HOME/.cache/memvox}/schema-venv"
pinned_venv "$VENV" schemathesis==4.32.5

admin="api-admin-$RANDOM$RANDOM" tool="api-tool-$RANDOM$RANDOM" llm="api-llm-$RANDOM$RANDOM"
secret="api-init-$RANDOM$RANDOM" webhook="api-webhook-$RANDOM$RANDOM"

# The custom-LLM proxy's upstream: any chat completion answers one fixed reply, as JSON or as an
# event stream, so the proxy's 200 is reached without a model.
upstream_log="$(mktemp)"
python3 - >"$upstream_log" 2>&1 <<'PY' &
import json, http.server, socketserver, sys
REPLY = {"id": "c1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
class Upstream(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        if body.get("stream") is True:
            data, kind = b'data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\ndata: [DONE]\n\n', "text/event-stream"
        else:
            data, kind = json.dumps(REPLY).encode(), "application/json"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Upstream)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
SIDE_PIDS=$!
trap 'kill $SIDE_PIDS' EXIT
until [[ -s $upstream_log ]]; do sleep 0.1; done
upstream_port="$(head -1 "$upstream_log")"
rm -f "$upstream_log"

start_serve 127.0.0.1 \
  MEMVOX_QUERY__ADMIN_TOKEN_SHA256="[\"$(sha256_hex "$admin")\"]" \
  MEMVOX_QUERY__TOOL_TOKEN_SHA256="[\"$(sha256_hex "$tool")\"]" \
  MEMVOX_QUERY__INIT_SECRETS="[\"$secret\"]" \
  MEMVOX_QUERY__MCP_ADMIN=true \
  MEMVOX_QUERY__RATE_LIMIT_PER_SECOND=0 \
  MEMVOX_QUERY__INIT_RATE_PER_NUMBER_PER_MINUTE=0 \
  MEMVOX_QUERY__INIT_RATE_GLOBAL_PER_SECOND=0 \
  MEMVOX_QUERY__LLM_PROXY__ENABLED=true \
  MEMVOX_QUERY__LLM_PROXY__TOKEN_SHA256="[\"$(sha256_hex "$llm")\"]" \
  MEMVOX_QUERY__LLM_PROXY__UPSTREAM_URL="http://127.0.0.1:$upstream_port/v1" \
  MEMVOX_GATEWAY__WEBHOOK_SECRETS="[\"$webhook\"]" \
  MEMVOX_LOG__FILTER=warn,rmcp=error

# Seed data through the API: callers with memories (kept, and some only for the operations
# that delete), and the fixture's call, signed as ElevenLabs signs it; writes the schemathesis
# configuration with the tokens and the seeded ids.
config="$WORK/schemathesis.toml"
python3 - "$BASE" "$admin" "$tool" "$llm" "$secret" "$webhook" \
  fixtures/elevenlabs/post_call_transcription.json "$config" <<'PY' || serve_log_and_fail
import base64, hashlib, hmac, json, sys, time, urllib.request
base, admin, tool, llm, secret, webhook, fixture, config = sys.argv[1:9]

def call(method, path, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    headers = {"content-type": "application/json", **(headers or {})}
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)

def admin_call(method, path, body=None):
    return call(method, path, body, {"authorization": f"Bearer {admin}"})

def add(user, content, sector="semantic"):
    return admin_call("POST", f"/v1/users/{user}/memories", {"content": content, "sector": sector})["id"]

kept, deletable = [], []
for user in ["caller-ann", "caller-bob"]:
    kept += [add(user, f"{user} prefers morning appointments"), add(user, f"{user} has a dog called Rex", "episodic")]
    deletable += [add(user, f"{user} asked about parking {n}") for n in range(3)]
erasable = ["caller-erase-1", "caller-erase-2"]
for user in erasable:
    add(user, "a caller to erase")

body, t = open(fixture, "rb").read(), str(int(time.time()))
signature = hmac.new(webhook.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
call("POST", "/webhook/post-call", body, {"elevenlabs-signature": f"t={t},v0={signature}"})
init = call("POST", "/webhook/conversation-init",
            {"agent_id": "agent_api", "caller_id": "+14155550199", "conversation_id": "conv_api"},
            {"x-memvox-secret": secret})
payload = init["dynamic_variables"]["memory_user_id"].split(".")[1]
guest = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
for _ in range(300):  # the workers run at the lowest priority: up to 30 s on a busy machine
    try:
        if admin_call("GET", f"/v1/users/{guest}")["counts"]["total"] > 0:
            break
    except urllib.error.HTTPError:
        pass
    time.sleep(0.1)
else:
    sys.exit(f"the fixture's call never became memories of {guest}")
users = ["caller-ann", "caller-bob", guest]
print(f"    seeded {len(users) + len(erasable)} callers, {len(kept) + len(deletable) + len(erasable)} memories and a call")
memory_ids = kept + deletable
open(config, "w").write(f"""
# Written by scripts/test-api-schema.sh for one run: tokens, seeded ids.
seed = 20261207
generation.max-examples = 25
checks.enabled = true
# Each run on its own: no crash cache, no database of earlier examples.
cache.enabled = false
generation.database = "none"
phases.stateful.max-steps = 6
warnings.fail-on = ["missing_auth", "missing_test_data", "validation_mismatch", "unused_openapi_auth"]

[auth.openapi.adminToken]
bearer = "{admin}"
[auth.openapi.toolToken]
bearer = "{tool}"
[auth.openapi.llmToken]
bearer = "{llm}"
[auth.openapi.initSecret]
api_key = "{secret}"

[dictionaries.users]
values = {json.dumps(users)}
[dictionaries.memories]
values = {json.dumps(memory_ids)}
[dictionaries.erasable]
values = {json.dumps(erasable)}
[dictionaries.deletable]
values = {json.dumps(deletable)}

[parameters]
"path.user_id" = {{ dictionary = "users", probability = 0.5 }}
"path.memory_id" = {{ dictionary = "memories", probability = 0.5 }}

[[operations]]
include-operation-id = "eraseUser"
parameters = {{ "path.user_id" = {{ dictionary = "erasable", probability = 0.5 }} }}

[[operations]]
include-operation-id = "deleteMemory"
parameters = {{ "path.memory_id" = {{ dictionary = "deletable", probability = 0.5 }} }}

# The MCP transport needs both media types in Accept (which OpenAPI cannot describe as a parameter).
[[operations]]
include-path = "/mcp"
headers = {{ accept = "application/json, text/event-stream" }}
""")
PY

# Every check, every phase; the fixed seed and case budget are in the configuration above. The
# description is the one the server serves, saved first: loaded from its URL, schemathesis
# would leave out the operation that serves it.
description="$WORK/openapi.json" report="$WORK/schemathesis.ndjson"
python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1]).read())' \
  "$BASE/openapi.json" "$description"
# Run from the temporary directory, where Hypothesis leaves its own.
(cd "$WORK" && "$VENV/bin/st" --config-file "$config" run "$description" --url "$BASE" \
  --no-color --report ndjson --report-ndjson-path "$report" "$@") || serve_log_and_fail

# What was exercised: requests sent, and which described operations answered a 2xx (reached
# past authentication, validation and lookups). An operation never reached fails the run.
python3 - "$report" "$description" <<'PY'
import json, sys
report, description = sys.argv[1:3]
paths = json.load(open(description))["paths"]
described = {f"{method.upper()} {path}" for path, item in paths.items() for method in item if method != "parameters"}
sent, reached = 0, set()
for line in open(report):
    finished = json.loads(line).get("ScenarioFinished")
    for case_id, interaction in (finished or {}).get("recorder", {}).get("interactions", {}).items():
        case = finished["recorder"]["cases"][case_id]["value"]
        sent += 1
        if interaction.get("response") and 200 <= interaction["response"]["status_code"] < 300:
            reached.add(f"{case['method']} {case['path']}")
missing = sorted(described - reached)
print(f"    {sent} generated cases; {len(described & reached)}/{len(described)} described operations reached (a 2xx answer)")
if missing:
    sys.exit(f"never reached: {', '.join(missing)}")
PY
