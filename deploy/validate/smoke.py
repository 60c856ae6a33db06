#!/usr/bin/env python3
"""Smoke test of the deployment environment on the real binaries, without Docker or a cluster.

Takes the environment each service gets from docker-compose.yml (`docker-compose config`), from
the k8s ConfigMap plus Secret mapping and (optionally) from the rendered Helm chart, points it at a local Redis and PostgreSQL (as started by
scripts/test-services.sh) under a throw-away key prefix and schema, and runs what the containers
run: `memvox wait-for`, `memvox migrate`, the four service binaries, the image's health check
command, a signed post-call webhook, a memory-query that must find the memories, the initiation
webhook's 503 without a secret, and SIGTERM, which every process must survive within its grace
period. Configuration is strict (unknown MEMVOX_* keys stop a process), so this proves every
variable the deployment files set is one memvox accepts.

Usage: smoke.py BIN_DIR RENDERED_K8S_BASE.yaml [RENDERED_HELM_CHART.yaml]
Env: MEMVOX_TEST_POSTGRES_URL (default postgres://memvox:memvox@127.0.0.1:5432/memvox_test),
     MEMVOX_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.cookiejar as http_cookies
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PG = os.environ.get("MEMVOX_TEST_POSTGRES_URL", "postgres://memvox:memvox@127.0.0.1:5432/memvox_test")
REDIS = os.environ.get("MEMVOX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET, TOKEN = "wsec_smoke_secret", "smoke-token-" + uuid.uuid4().hex
DATA_KEY, INDEX_KEY = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
ENCRYPTION = {"keys": f"smoke1:{DATA_KEY}", "active": "smoke1", "index": INDEX_KEY}
TOKEN_HASH = hashlib.sha256(TOKEN.encode()).hexdigest()
ADMIN_TOKEN = "smoke-admin-" + uuid.uuid4().hex
ADMIN_HASH = hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()
SERVICES = {"gateway": 0, "query": 1, "extraction-worker": 2, "embedding-worker": 3}


def fail(msg: str) -> None:
    print(f"  FAIL {msg}")
    raise SystemExit(1)


def compose_env() -> dict[str, tuple[list[str], dict[str, str]]]:
    env = dict(os.environ, ELEVENLABS_WEBHOOK_SECRET=SECRET, TOOL_TOKEN_SHA256=TOKEN_HASH,
               ADMIN_TOKEN_SHA256=ADMIN_HASH, ELEVENLABS_INIT_SECRET="",
               ENCRYPTION_KEYS=ENCRYPTION["keys"], ENCRYPTION_ACTIVE_KEY=ENCRYPTION["active"],
               ENCRYPTION_INDEX_KEY=ENCRYPTION["index"])
    out = subprocess.run(
        ["docker-compose", "--env-file", ".env.example", "-f", "docker-compose.yml", "config"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout
    services = yaml.safe_load(out)["services"]
    result = {}
    for name in ["migrate", *SERVICES]:
        svc = services[name]
        environment = svc.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(e.split("=", 1) for e in environment)
        result[name] = (svc["command"], {k: "" if v is None else str(v) for k, v in environment.items()})
    hc = services["gateway"]["healthcheck"]["test"]
    return result, hc[1:]


def k8s_env(rendered: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config"))["data"]
    secret_values = {
        "store-url": PG, "redis-url": REDIS, "webhook-secrets": f"[{SECRET}]",
        "init-secrets": "[]", "tool-token-sha256": f"[{TOKEN_HASH}]",
        "admin-token-sha256": f"[{ADMIN_HASH}]",
        "encryption-keys": ENCRYPTION["keys"], "encryption-active-key": ENCRYPTION["active"],
        "encryption-index-key": ENCRYPTION["index"],
    }
    result = {}
    for d in docs:
        if d["kind"] not in ("Deployment", "Job"):
            continue
        c = d["spec"]["template"]["spec"]["containers"][0]
        env = dict(config)
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = e["value"]
            else:
                ref = e["valueFrom"]["secretKeyRef"]
                if ref["key"] in secret_values:
                    env[e["name"]] = secret_values[ref["key"]]
                elif not ref.get("optional"):
                    fail(f"{d['metadata']['name']}: secret key {ref['key']} unknown to the smoke test")
        name = c["name"]
        result["migrate" if d["kind"] == "Job" else name] = (c["command"], env)
    return result


def local(env: dict[str, str], port: int | None, prefix: str, model: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("MEMVOX_") and not k.startswith("OTEL_")}
    out.update(env)
    out.update(
        MEMVOX_STORE__URL=PG, MEMVOX_STORE__SCHEMA=prefix, MEMVOX_BUS__REDIS_URL=REDIS,
        MEMVOX_BUS__KEY_PREFIX=prefix, MEMVOX_EMBEDDER__MODEL_PATH=model, MEMVOX_HTTP__SHUTDOWN_GRACE_MS="3000",
    )
    if port:
        out["MEMVOX_HTTP__LISTEN"] = f"127.0.0.1:{port}"
    return out


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def inspector(flavour: str, query: str, caller: str) -> None:
    """The memory inspector on the query service: sign in with the admin token (a session cookie
    signed with the key the keyring derives), find the caller by number, see their memories."""
    status, _ = http("GET", f"{query}/ui/login")
    if status != 200:
        fail(f"{flavour}: the query service's /ui/login answered {status}")
    jar = http_cookies.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"token": ADMIN_TOKEN}).encode()
    browser.open(urllib.request.Request(f"{query}/ui/login", data=form, method="POST"), timeout=5)
    if not any(cookie.name == "memvox_ui" for cookie in jar):
        fail(f"{flavour}: signing in to the inspector set no session cookie")
    with browser.open(f"{query}/ui/find?q={urllib.parse.quote(caller)}", timeout=5) as page:
        url, html = page.url, page.read().decode()
    if "/ui/users/" not in url or "Memories by sector" not in html:
        fail(f"{flavour}: the inspector did not find the caller by number ({url})")
    print(f"  {flavour}: the memory inspector signs in on the query service and shows the caller")


def run(flavour: str, services, healthcheck, bins: pathlib.Path, workdir: pathlib.Path) -> None:
    prefix = f"smoke{flavour}{uuid.uuid4().hex[:6]}"
    model = str(ROOT / "models/static-minilm-256")
    base = 18600 + 10 * ["compose", "k8s", "helm"].index(flavour)
    cmd = lambda argv: [str(bins / argv[0]), *argv[1:]]  # noqa: E731
    procs: dict[str, subprocess.Popen] = {}
    try:
        subprocess.run(cmd(["memvox", "wait-for", "--timeout-secs", "10", "tcp://127.0.0.1:5432", "tcp://127.0.0.1:6379"]),
                       check=True, capture_output=True)
        argv, env = services["migrate"]
        subprocess.run(cmd(argv), env=local(env, None, prefix, model), cwd=workdir, check=True, capture_output=True)
        print(f"  {flavour}: migrate ok")
        for name, i in SERVICES.items():
            argv, env = services[name]
            log = open(workdir / f"{flavour}-{name}.log", "w")
            procs[name] = subprocess.Popen(cmd(argv), env=local(env, base + i, prefix, model), cwd=workdir,
                                           stdout=log, stderr=subprocess.STDOUT)
        urls = [f"http://127.0.0.1:{base + i}/health/ready" for i in SERVICES.values()]
        r = subprocess.run(cmd(["memvox", "wait-for", "--timeout-secs", "90", *urls]), capture_output=True, text=True)
        if r.returncode != 0:
            for name in SERVICES:
                print((workdir / f"{flavour}-{name}.log").read_text()[-1500:])
            fail(f"{flavour}: services not ready: {r.stderr.strip()}")
        for i in SERVICES.values():
            probe = [a.replace("127.0.0.1:8080", f"127.0.0.1:{base + i}") for a in healthcheck]
            subprocess.run(cmd(probe), check=True, capture_output=True)
        print(f"  {flavour}: 4 services ready; image health check command passes on each")

        body = json.loads((ROOT / "fixtures/elevenlabs/post_call_transcription.json").read_text())
        body["data"]["conversation_id"] = f"conv_{prefix}"
        raw = json.dumps(body).encode()
        t = int(time.time())
        sig = hmac.new(SECRET.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
        status, answer = http("POST", f"http://127.0.0.1:{base}/webhook/post-call", raw,
                              {"ElevenLabs-Signature": f"t={t},v0={sig}", "content-type": "application/json"})
        if status != 200:
            fail(f"{flavour}: signed post-call webhook answered {status} {answer[:200]!r}")
        status, _ = http("POST", f"http://127.0.0.1:{base}/webhook/post-call", raw, {"content-type": "application/json"})
        if status != 401:
            fail(f"{flavour}: unsigned post-call webhook answered {status}, expected 401")
        caller = body["data"]["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"]
        query = json.dumps({"query": "callbacks", "user_id": "", "caller_id": caller, "conversation_id": "x"}).encode()
        deadline, found = time.time() + 20, 0
        while time.time() < deadline and not found:
            status, answer = http("POST", f"http://127.0.0.1:{base + 1}/tools/memory-query", query,
                                  {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"})
            found = len(json.loads(answer).get("memories", [])) if status == 200 else 0
            time.sleep(0.2)
        if not found:
            fail(f"{flavour}: memory-query found no memories of the call (last answer {status} {answer[:200]!r})")
        print(f"  {flavour}: unsigned webhook 401, signed webhook accepted; memory-query returns {found} memories of the call")
        inspector(flavour, f"http://127.0.0.1:{base + 1}", caller)
        status, _ = http("POST", f"http://127.0.0.1:{base + 1}/webhook/conversation-init", b"{}",
                         {"content-type": "application/json"})
        if status != 503:
            fail(f"{flavour}: conversation-init without configured secrets answered {status}, expected 503")
        # Stream gauges are refreshed every 5 s and a group exists once its worker first reads:
        # give the next refresh time to run.
        deadline = time.time() + 12
        while True:
            metrics = http("GET", f"http://127.0.0.1:{base + 2}/metrics")[1].decode()
            if "memvox_stream_lag{" in metrics or time.time() > deadline:
                break
            time.sleep(0.5)
        if 'memvox_bus_messages_total{group="extraction",outcome="processed",stream="events"}' not in metrics:
            fail(f"{flavour}: extraction worker's /metrics shows no processed message")
        # MemvoxNotReady relies on readiness probes being counted under their route template.
        if 'route="/health/ready"' not in metrics or "memvox_stream_lag{" not in metrics:
            fail(f"{flavour}: /metrics lacks /health/ready requests or the stream gauges the alerts use")
    finally:
        for name, p in procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in procs.items():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                fail(f"{flavour}: {name} did not stop within 15 s of SIGTERM")
        cleanup(prefix)
    bad = {n: p.returncode for n, p in procs.items() if p.returncode not in (0, -signal.SIGTERM)}
    if bad:
        fail(f"{flavour}: exit codes after SIGTERM {bad}")
    print(f"  {flavour}: all services stopped cleanly on SIGTERM")


def cleanup(prefix: str) -> None:
    if shutil.which("psql"):
        subprocess.run(["psql", PG, "-qc", f"DROP SCHEMA IF EXISTS {prefix} CASCADE"], capture_output=True)
    if shutil.which("redis-cli"):
        keys = subprocess.run(["redis-cli", "-u", REDIS, "--scan", "--pattern", f"{prefix}:*"],
                              capture_output=True, text=True).stdout.split()
        if keys:
            subprocess.run(["redis-cli", "-u", REDIS, "del", *keys], capture_output=True)


def main() -> None:
    bins, rendered = pathlib.Path(sys.argv[1]).resolve(), sys.argv[2]
    helm_rendered = sys.argv[3] if len(sys.argv) > 3 else None
    workdir = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"memvox-smoke-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        compose, healthcheck = compose_env()
        run("compose", compose, healthcheck, bins, workdir)
        run("k8s", k8s_env(rendered), healthcheck, bins, workdir)
        if helm_rendered:
            run("helm", k8s_env(helm_rendered), healthcheck, bins, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
