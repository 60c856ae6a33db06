#!/usr/bin/env python3
"""Consistency checks of the deployment files against each other and against the Rust sources.

Run by scripts/validate-deploy.sh (with the venv that has PyYAML and jsonschema):

  checks.py metrics     every memvox_* metric named in dashboards and alert rules is registered
                        somewhere in libs/ or services/ (histogram suffixes _bucket/_sum/_count
                        are stripped first)
  checks.py copies      k8s PrometheusRule, the chart's files/alerts.yml and the chart's dashboards
                        are identical to deploy/prometheus/alerts.yml and deploy/grafana/dashboards
                        (no dashboard missing from the chart, none left there that deploy/ lacks)
  checks.py promql OUT.yml
                        writes every dashboard query, Grafana variables replaced, as a recording
                        rule to OUT.yml, for `promtool check rules` to parse
  checks.py chart-dashboards RENDERED.yaml
                        the rendered chart's dashboards ConfigMap holds every dashboard of
                        deploy/grafana/dashboards, one key each, equal to its file
  checks.py crds FILE.. structural checks of the custom resources kubernetes-validate has no
                        schema for: KEDA ScaledObject / TriggerAuthentication, ServiceMonitor,
                        PrometheusRule. The ScaledObjects must name the real stream key (KeySpace
                        of libs/bus) and the real consumer groups (GROUP of each worker crate).
  checks.py sync        rewrites the copies from the sources: k8s/base/prometheusrule.yaml,
                        helm/memvox/files/alerts.yml, helm/memvox/dashboards/*.json
  checks.py same K8S.yaml HELM.yaml
                        the rendered kustomize base and Helm chart (default values) describe the same
                        workloads: commands, probes, lifecycle, security, env names, scaling,
                        disruption budgets, ingress routes, configuration keys and alert rules
  checks.py schema      helm/memvox/values.yaml validates against values.schema.json, and a
                        broken copy does not (so the schema is not vacuous)
"""

from __future__ import annotations

import copy
import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SUFFIXES = ("_bucket", "_sum", "_count")
failures: list[str] = []


def fail(msg: str) -> None:
    failures.append(msg)
    print(f"  FAIL {msg}")


def rust_sources() -> str:
    parts = []
    for sub in ("libs", "services"):
        for p in sorted((ROOT / sub).rglob("*.rs")):
            if "/tests/" in str(p) or p.name == "tests.rs":
                continue
            parts.append(p.read_text(errors="replace"))
    return "\n".join(parts)


def check_metrics() -> None:
    src = rust_sources()
    registered = set(re.findall(r'"(memvox_[a-z0-9_]+)"', src))
    files = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")) + [ROOT / "deploy/prometheus/alerts.yml"]
    used: dict[str, set[str]] = {}
    for f in files:
        for name in re.findall(r"\b(memvox_[a-z0-9_]+)", f.read_text()):
            base = name
            for suf in SUFFIXES:
                if base.endswith(suf) and base[: -len(suf)] in registered:
                    base = base[: -len(suf)]
            used.setdefault(base, set()).add(f.relative_to(ROOT).as_posix())
    for name in sorted(used):
        if name not in registered:
            fail(f"metric {name} (used in {', '.join(sorted(used[name]))}) is not registered in libs/ or services/")
    print(f"  {len(used)} metric names referenced, {len(registered)} registered in the Rust sources")


def check_copies() -> None:
    alerts = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    rule = yaml.safe_load((ROOT / "k8s/base/prometheusrule.yaml").read_text())
    if rule["spec"]["groups"] != alerts["groups"]:
        fail("k8s/base/prometheusrule.yaml differs from deploy/prometheus/alerts.yml (run: deploy/validate/checks.py sync)")
    if (ROOT / "helm/memvox/files/alerts.yml").read_text() != (ROOT / "deploy/prometheus/alerts.yml").read_text():
        fail("helm/memvox/files/alerts.yml differs from deploy/prometheus/alerts.yml (run: deploy/validate/checks.py sync)")
    for d in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")):
        dash = json.loads(d.read_text())
        ids = [p["id"] for p in dash["panels"]]
        if len(ids) != len(set(ids)) or not dash.get("uid"):
            fail(f"{d.name}: panel ids must be unique and the dashboard needs a uid")
        for p in dash["panels"]:
            if p["type"] != "row" and not all(t.get("expr") for t in p.get("targets") or [{}]):
                fail(f"{d.name}: panel {p['title']!r} has a target without a query")
        copy_ = ROOT / "helm/memvox/dashboards" / d.name
        if not copy_.exists() or copy_.read_text() != d.read_text():
            fail(f"helm/memvox/dashboards/{d.name} differs from deploy/grafana/dashboards/{d.name} (run: deploy/validate/checks.py sync)")
    for stale in sorted(set(chart_dashboards()) - set(dashboard_files())):
        fail(f"helm/memvox/dashboards/{stale} has no source in deploy/grafana/dashboards (run: deploy/validate/checks.py sync)")
    print("  alert rules and dashboards: k8s, chart and compose copies compared")


def dashboard_files() -> dict[str, pathlib.Path]:
    """The dashboards compose provisions, by file name."""
    return {d.name: d for d in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))}


def chart_dashboards() -> dict[str, pathlib.Path]:
    """The dashboards the chart ships, by file name."""
    return {d.name: d for d in sorted((ROOT / "helm/memvox/dashboards").glob("*.json"))}


GRAFANA_VARIABLE = re.compile(r"\$\{?([A-Za-z_]+)\}?")


def check_promql(out: str) -> None:
    """Every panel query as a recording rule, `$__rate_interval` as 5m and other variables as `.*`."""
    rules = []
    for name, path in dashboard_files().items():
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets") or []:
                expr = target["expr"].replace("$__rate_interval", "5m").replace("$__interval", "1m")
                expr = GRAFANA_VARIABLE.sub(".*", expr)
                board = re.sub(r"[^a-z0-9_]", "_", path.stem.lower())
                rules.append({"record": f"{board}:panel_{panel['id']}_{target['refId'].lower()}", "expr": expr})
    pathlib.Path(out).write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    print(f"  {len(rules)} dashboard queries written to {out}")


def check_chart_dashboards(rendered: str) -> None:
    maps = [
        d for d in yaml.safe_load_all(pathlib.Path(rendered).read_text())
        if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboards")
    ]
    if len(maps) != 1:
        fail(f"{rendered}: expected one dashboards ConfigMap, found {len(maps)}")
        return
    data = maps[0].get("data") or {}
    files = dashboard_files()
    if sorted(data) != sorted(files):
        fail(f"the chart ships dashboards {sorted(data)}, deploy/grafana/dashboards has {sorted(files)}")
    for name in sorted(set(data) & set(files)):
        if json.loads(data[name]) != json.loads(files[name].read_text()):
            fail(f"the chart's rendered {name} differs from deploy/grafana/dashboards/{name}")
    print(f"  the chart's ConfigMap ships {len(data)} dashboards")


def source_constant(path: str, name: str) -> str:
    m = re.search(rf'pub const {name}: &str = "([^"]+)";', (ROOT / path).read_text())
    if not m:
        fail(f"{path}: constant {name} not found")
        return ""
    return m.group(1)


def check_crds(paths: list[str]) -> None:
    streams = {
        source_constant("services/extraction-worker/src/lib.rs", "GROUP"): source_constant(
            "libs/bus/src/message.rs", "EVENTS"
        ),
        source_constant("services/embedding-worker/src/lib.rs", "GROUP"): source_constant(
            "libs/bus/src/message.rs", "MEMORIES"
        ),
    }
    keys_rs = (ROOT / "libs/bus/src/redis_streams/keys.rs").read_text()
    if 'format!("{}:stream:{{{stream}}}", self.prefix)' not in keys_rs:
        fail("libs/bus KeySpace::stream no longer builds `<prefix>:stream:{<stream>}`: update the ScaledObjects")
    seen = 0
    for path in paths:
        for doc in yaml.safe_load_all(pathlib.Path(path).read_text()):
            if not doc:
                continue
            kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
            where = f"{path}: {kind}/{name}"
            spec = doc.get("spec") or {}
            if kind == "ScaledObject":
                seen += 1
                if not spec.get("scaleTargetRef", {}).get("name"):
                    fail(f"{where}: spec.scaleTargetRef.name missing")
                lo, hi = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
                if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi):
                    fail(f"{where}: min/maxReplicaCount must be integers with min <= max")
                if not spec.get("triggers"):
                    fail(f"{where}: no triggers")
                for t in spec.get("triggers", []):
                    md = t.get("metadata", {})
                    if t.get("type") != "redis-streams":
                        fail(f"{where}: trigger type {t.get('type')} (expected redis-streams)")
                        continue
                    group = md.get("consumerGroup")
                    if group not in streams:
                        fail(f"{where}: consumerGroup {group!r} is not a memvox worker group {sorted(streams)}")
                        continue
                    m = re.fullmatch(r"([a-z0-9_-]+):stream:\{([a-z]+)\}", md.get("stream", ""))
                    if not m or m.group(2) != streams[group]:
                        fail(f"{where}: stream {md.get('stream')!r} is not the key of stream "
                             f"{streams[group]!r} (<prefix>:stream:{{{streams[group]}}})")
                    if not (md.get("address") or md.get("addressFromEnv") or md.get("host")):
                        fail(f"{where}: trigger has no Redis address")
                    counts = [k for k in ("lagCount", "pendingEntriesCount", "streamLength") if k in md]
                    if len(counts) != 1 or not str(md[counts[0]]).isdigit():
                        fail(f"{where}: a trigger needs exactly one numeric string of lagCount/pendingEntriesCount/streamLength")
                    for k, v in md.items():
                        if not isinstance(v, str):
                            fail(f"{where}: trigger metadata {k} must be a string (KEDA's map[string]string)")
            elif kind == "TriggerAuthentication":
                seen += 1
                for ref in spec.get("secretTargetRef", []):
                    if not {"parameter", "name", "key"} <= set(ref):
                        fail(f"{where}: secretTargetRef needs parameter, name and key")
            elif kind == "ServiceMonitor":
                seen += 1
                if not spec.get("selector", {}).get("matchLabels"):
                    fail(f"{where}: spec.selector.matchLabels missing")
                for ep in spec.get("endpoints", []):
                    if ep.get("port") != "http" or ep.get("path") != "/metrics":
                        fail(f"{where}: endpoint must scrape port http, path /metrics")
            elif kind == "PrometheusRule":
                seen += 1
                for g in spec.get("groups", []):
                    for r in g.get("rules", []):
                        if "alert" in r and not r.get("annotations", {}).get("runbook_url"):
                            fail(f"{where}: alert {r['alert']} has no runbook_url")
    print(f"  {seen} custom resources checked")


def sync() -> None:
    import shutil

    class Dumper(yaml.SafeDumper):
        def increase_indent(self, flow=False, indentless=False):
            return super().increase_indent(flow, False)

        def ignore_aliases(self, data):
            return True

    Dumper.add_representer(
        str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|" if "\n" in v else None)
    )
    alerts_path = ROOT / "deploy/prometheus/alerts.yml"
    alerts = yaml.safe_load(alerts_path.read_text())
    labels = {"app.kubernetes.io/name": "memvox", "app.kubernetes.io/part-of": "memvox"}
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "memvox", "labels": labels},
        "spec": {"groups": alerts["groups"]},
    }
    header = (
        "# Generated from deploy/prometheus/alerts.yml (scripts/validate-deploy.sh fails if they differ).\n"
        "# Alert rules for the Prometheus Operator; runbooks: docs/runbook.md.\n"
    )
    (ROOT / "k8s/base/prometheusrule.yaml").write_text(
        header + yaml.dump(rule, Dumper=Dumper, sort_keys=False, width=200)
    )
    shutil.copyfile(alerts_path, ROOT / "helm/memvox/files/alerts.yml")
    sources = dashboard_files()
    for name, stale in chart_dashboards().items():
        if name not in sources:
            stale.unlink()
    for name, d in sources.items():
        shutil.copyfile(d, ROOT / "helm/memvox/dashboards" / name)
    print("  copies rewritten")


def workload_view(path: str) -> dict:
    """What must agree between the two renderings, keyed by component, names stripped of prefixes."""
    docs = [d for d in yaml.safe_load_all(pathlib.Path(path).read_text()) if d]
    view: dict = {}
    comp = lambda d: d["metadata"].get("labels", {}).get("app.kubernetes.io/component", "")  # noqa: E731

    def tail(name: str) -> str:  # memvox-query / <release>-memvox-query -> query
        return name.split("memvox-", 1)[-1]

    for d in docs:
        kind, spec = d["kind"], d.get("spec", {})
        if kind in ("Deployment", "Job"):
            pod = spec["template"]["spec"]
            c = pod["containers"][0]
            view[(kind, comp(d))] = {
                "command": c["command"],
                "ports": c.get("ports"),
                "probes": [c.get(k) for k in ("startupProbe", "livenessProbe", "readinessProbe")],
                "lifecycle": c.get("lifecycle"),
                "securityContext": c.get("securityContext"),
                "podSecurityContext": {k: v for k, v in pod.get("securityContext", {}).items() if k != "fsGroup"},
                "env": sorted(e["name"] for e in c.get("env", [])) if kind == "Deployment" else None,
                "resources": c.get("resources") if kind == "Deployment" else None,
                "grace": pod.get("terminationGracePeriodSeconds"),
                "init": [i["command"] for i in pod.get("initContainers", [])] if kind == "Deployment" else None,
                "mounts": c.get("volumeMounts"),
            }
        elif kind == "ScaledObject":
            view[(kind, comp(d))] = {
                "range": (spec["minReplicaCount"], spec["maxReplicaCount"], spec.get("cooldownPeriod")),
                "triggers": [{k: v for k, v in t["metadata"].items()} for t in spec["triggers"]],
            }
        elif kind == "HorizontalPodAutoscaler":
            view[(kind, comp(d))] = {k: spec[k] for k in ("minReplicas", "maxReplicas", "metrics")}
        elif kind == "PodDisruptionBudget":
            view[(kind, comp(d))] = {k: v for k, v in spec.items() if k != "selector"}
        elif kind == "Ingress":
            view[(kind, "")] = sorted(
                (p["path"], p["pathType"], tail(p["backend"]["service"]["name"]))
                for r in spec["rules"] for p in r["http"]["paths"]
            )
        elif kind == "ConfigMap" and d["metadata"]["name"].endswith("-config"):
            view[(kind, "")] = sorted(d["data"])
        elif kind == "PrometheusRule":
            view[(kind, "")] = spec["groups"]
        elif kind == "Service":
            view[(kind, comp(d))] = spec["ports"]
    return view


def check_same(k8s: str, helm: str) -> None:
    a, b = workload_view(k8s), workload_view(helm)
    for key in sorted(set(a) | set(b), key=str):
        if key not in a or key not in b:
            fail(f"{key[0]} {key[1] or ''} is rendered only by {'kustomize' if key in a else 'the Helm chart'}")
        elif a[key] != b[key]:
            for field in a[key] if isinstance(a[key], dict) else [None]:
                x = a[key][field] if field else a[key]
                y = b[key][field] if field else b[key]
                if x != y:
                    fail(f"{key[0]} {key[1]} {field or ''} differs: k8s {x!r:.200} / helm {y!r:.200}")
    print(f"  {len(a)} objects compared between k8s/base and the Helm chart")


def check_schema() -> None:
    import jsonschema

    chart = ROOT / "helm/memvox"
    schema = json.loads((chart / "values.schema.json").read_text())
    values = yaml.safe_load((chart / "values.yaml").read_text())
    validator = jsonschema.Draft7Validator(schema)
    jsonschema.Draft7Validator.check_schema(schema)
    for err in validator.iter_errors(values):
        fail(f"values.yaml: {'/'.join(map(str, err.path))}: {err.message}")
    broken = copy.deepcopy(values)
    broken["services"]["query"]["replicas"] = "two"
    broken["config"]["MEMVOX_STORE__URL"] = "postgres://x"
    if len(list(validator.iter_errors(broken))) < 2:
        fail("values.schema.json accepts broken values (replicas: 'two', a store URL in config)")
    print("  values.yaml valid; broken values rejected")


def check_runbook() -> None:
    runbook = (ROOT / "docs/runbook.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
    alerts = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    for g in alerts["groups"]:
        for r in g["rules"]:
            url = r.get("annotations", {}).get("runbook_url", "")
            anchor = url.split("#", 1)[-1] if "#" in url else ""
            if anchor not in anchors:
                fail(f"alert {r.get('alert')}: runbook_url {url!r} has no section in docs/runbook.md")
    print("  every alert's runbook_url has a section in docs/runbook.md")


def main() -> None:
    what, args = sys.argv[1], sys.argv[2:]
    if what in ("same", "promql", "chart-dashboards"):
        {"same": check_same, "promql": check_promql, "chart-dashboards": check_chart_dashboards}[what](*args)
        sys.exit(1 if failures else 0)
    {"metrics": check_metrics, "copies": check_copies, "sync": sync, "schema": check_schema, "runbook": check_runbook}.get(
        what, lambda: check_crds(args)
    )() if what != "crds" else check_crds(args)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
