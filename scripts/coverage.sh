#!/usr/bin/env bash
# Line coverage of the whole workspace: every `cargo test` of the workspace, built with
# `-C instrument-coverage` and run against the real Redis and PostgreSQL (as scripts/test.sh runs
# them; memvox binaries the tests start as processes write their profiles too). Not part of
# scripts/test.sh: the instrumented build of the whole tree takes tens of minutes.
#
# Installs what it needs on first run (needs root for apt):
#   - cargo-llvm-cov (pinned) from crates.io into $MEMVOX_CACHE_DIR/cargo-llvm-cov-VERSION;
#   - llvm-profdata and llvm-cov of the LLVM major version rustc was built with, from Debian's
#     `llvm-N` package (rustup's llvm-tools component is not needed).
# Builds into target/coverage (never touches the normal build in target/debug), prints the total
# line coverage, with and without the excluded files, and a table per crate; writes
# target/coverage/lcov.info and the HTML report target/coverage/html/index.html.
#
# Excluded from the "product" figure (reported both ways): `libs/testkit` (helpers only tests
# link) and `loadtest` (the load generator, run by hand for the Performance figures; the suite
# builds it but drives no scenario). Test files under tests/ are never counted (cargo-llvm-cov's
# default); unit-test modules inside src/ files are, as the compiler instruments them with the file.
# Usage: scripts/coverage.sh [extra cargo test arguments, e.g. a test name filter]
set -euo pipefail
cd "$(dirname "$0")/.."

LLVM_COV_VERSION=0.9.1
CACHE_DIR=${MEMVOX_CACHE_DIR:-$HOME/.cache/memvox}
OUT=target/coverage
EXCLUDE='(^|/)(libs/testkit|loadtest)/'

step() { printf '\n==> %s\n' "$*" >&2; }

step "tools: cargo-llvm-cov $LLVM_COV_VERSION, llvm-profdata / llvm-cov of rustc's LLVM"
llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
llvm_bin=/usr/lib/llvm-$llvm_major/bin
if [[ ! -x $llvm_bin/llvm-profdata || ! -x $llvm_bin/llvm-cov ]]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    --no-install-recommends "llvm-$llvm_major" >/dev/null
fi
export LLVM_PROFDATA=$llvm_bin/llvm-profdata LLVM_COV=$llvm_bin/llvm-cov
tool_root=$CACHE_DIR/cargo-llvm-cov-$LLVM_COV_VERSION
if [[ ! -x $tool_root/bin/cargo-llvm-cov ]]; then
  cargo install -q --locked cargo-llvm-cov --version "$LLVM_COV_VERSION" --root "$tool_root"
fi
export PATH=$tool_root/bin:$PATH

step "test services (Redis, PostgreSQL + pgvector)"
scripts/test-services.sh

step "instrumented cargo test (target dir $OUT)"
export CARGO_LLVM_COV_TARGET_DIR=$PWD/$OUT
# Every test runs even after a failure (a test that fails here under load would otherwise drop
# the report); the script still exits non-zero after the reports if one failed.
tests=0
cargo llvm-cov --no-report --workspace --locked --no-fail-fast "$@" || tests=$?

step "reports"
cargo llvm-cov report --lcov --output-path "$OUT/lcov-all.info"
cargo llvm-cov report --lcov --output-path "$OUT/lcov.info" --ignore-filename-regex "$EXCLUDE"
cargo llvm-cov report --html --output-dir "$OUT" --ignore-filename-regex "$EXCLUDE" >/dev/null

# crate_table LCOV: lines covered / found per crate directory (libs/X, services/X, loadtest), then
# the total.
crate_table() {
  awk -v root="$PWD/" '
    /^SF:/ { file = substr($0, 4); sub("^" root, "", file); n = split(file, p, "/")
             crate = (p[1] == "libs" || p[1] == "services") ? p[1] "/" p[2] : p[1] }
    /^LF:/ { found[crate] += substr($0, 4); all_found += substr($0, 4) }
    /^LH:/ { hit[crate] += substr($0, 4); all_hit += substr($0, 4) }
    END {
      for (c in found) printf "%-28s %7d / %7d  %5.1f %%\n", c, hit[c], found[c], 100 * hit[c] / found[c] | "sort"
      close("sort")
      printf "%-28s %7d / %7d  %5.1f %%\n", "TOTAL", all_hit, all_found, 100 * all_hit / all_found
    }' "$1"
}

step "line coverage per crate (lines covered / lines)"
crate_table "$OUT/lcov-all.info"
step "line coverage without libs/testkit and loadtest"
crate_table "$OUT/lcov.info" | tail -n 1
printf '\nHTML report: %s/html/index.html, lcov: %s/lcov.info\n' "$OUT" "$OUT" >&2
if [[ $tests != 0 ]]; then
  printf 'some tests FAILED (see above): the figures include the failed run\n' >&2
  exit "$tests"
fi
