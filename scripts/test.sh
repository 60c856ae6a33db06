#!/usr/bin/env bash
# The whole test suite, as CI runs it: starts (or installs and starts) Redis and PostgreSQL with
# pgvector, checks formatting and lints, runs every test against the real servers, drives the MCP
# server with the official MCP Python SDK and the memory inspector with headless Chromium, checks
# the HTTP API against its OpenAPI description with schemathesis, then validates the deployment
# files offline.
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> [%ss] %s\n' "$SECONDS" "$*" >&2; }

step "test services (Redis, PostgreSQL + pgvector)"
scripts/test-services.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "build every target with clippy's lints denied (one compilation for lints and tests)"
# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
lint_while_building
cargo test --workspace --all-targets --locked --no-run

step "cargo test (with the fuzz targets replayed over their corpora: libs/fuzz-targets)"
cargo test --workspace --locked "$@"

step "MCP client (the official Python SDK, pinned) against memvox serve"
scripts/test-mcp-client.sh

step "memory inspector (/ui) in headless Chromium (Debian's, through WebDriver) against memvox serve"
scripts/test-inspector.sh

step "the HTTP API against /openapi.json (schemathesis, pinned) on memvox serve"
scripts/test-api-schema.sh

step "deployment files (offline validators, then the compose/k8s/Helm environments on the binaries)"
scripts/validate-deploy.sh --smoke
step "all passed"
