#!/usr/bin/env bash
# Fuzzes memvox's untrusted-input parsers with cargo-fuzz (libFuzzer + AddressSanitizer, debug
# assertions on): the targets of fuzz/fuzz_targets/, whose bodies live in libs/fuzz-targets
# (replayed on stable by `cargo test`). Each target starts from its committed seeds
# (fuzz/corpus/<target>/, read only) and its dictionary (fuzz/dict/); what it learns goes to
# fuzz/work/<target>/ and a crashing input to fuzz/artifacts/<target>/ (both ignored by git).
# Targets run one after another under `nice -n 19`; each prints its executions, exec/s and
# crashes. Needs the nightly toolchain (rustup); installs the pinned cargo-fuzz on first run into
# $HOME/.cache/memvox (a few minutes, from crates.io). The first build of the fuzz crate takes
# several minutes; later runs reuse fuzz/target.
#
# Usage: scripts/fuzz.sh [TARGET...] [--runs N | --seconds S]   (default: every target, 100000 runs)
#        scripts/fuzz.sh TARGET --input FILE                       (run one input, e.g. a crash)
# Exit status 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
TOOLCHAIN="${MEMVOX_FUZZ_TOOLCHAIN:-nightly}"
ALL=(signature envelope_head webhook_event init_request tool_request extractor redaction)

targets=() limit=(-runs=100000) input=""
while (($#)); do
  case $1 in
    --runs) limit=("-runs=$2"); shift 2 ;;
    --seconds) limit=("-max_total_time=$2"); shift 2 ;;
    --input) input=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ -f fuzz/fuzz_targets/$1.rs ]] || { echo "no fuzz target $1 (one of: ${ALL[*]})" >&2; exit 2; }
       targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${ALL[@]}")

if ! cargo "+$TOOLCHAIN" --version >/dev/null 2>&1; then
  cat >&2 <<MSG
scripts/fuzz.sh: the Rust $TOOLCHAIN toolchain is missing; cargo-fuzz needs it (libFuzzer and
AddressSanitizer use unstable compiler flags). Install it with
    rustup toolchain install $TOOLCHAIN --profile minimal
or name another installed nightly in MEMVOX_FUZZ_TOOLCHAIN. Without it, the fuzz target bodies
still run on stable: cargo test --workspace --locked --test replay
MSG
  exit 2
fi

tools="${MEMVOX_DEPLOY_CACHE:-$HOME/.cache/memvox}/cargo-fuzz-$CARGO_FUZZ_VERSION"
if [[ ! -x $tools/bin/cargo-fuzz ]]; then
  printf '    installing cargo-fuzz %s into %s (crates.io)\n' "$CARGO_FUZZ_VERSION" "$tools" >&2
  cargo install -q --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" --root "$tools"
fi
export PATH="$tools/bin:$PATH"
fuzz=(nice -n 19 cargo "+$TOOLCHAIN" fuzz run --release --debug-assertions)

# Only the extractor needs memvox-ai (tokio, reqwest, tokenizers): the others build without it.
features() { [[ $1 == extractor ]] || echo --no-default-features; }

if [[ -n $input ]]; then
  exec "${fuzz[@]}" $(features "${targets[0]}") "${targets[0]}" "$input"
fi

crashed=0 summary=()
for target in "${targets[@]}"; do
  mkdir -p "fuzz/work/$target" "fuzz/artifacts/$target"
  log="fuzz/work/$target.log" before=$(find "fuzz/artifacts/$target" -type f | wc -l)
  printf '\n==> fuzz %s (%s)\n' "$target" "${limit[*]}" >&2
  status=0
  "${fuzz[@]}" $(features "$target") "$target" "fuzz/work/$target" "fuzz/corpus/$target" -- \
    "${limit[@]}" -dict="fuzz/dict/$target.dict" -timeout=10 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(( $(find "fuzz/artifacts/$target" -type f | wc -l) - before ))
  if ((status != 0 && crashes == 0)); then
    tail -20 "$log" >&2
    echo "fuzz $target failed to run (exit $status); log: $log" >&2
    crashes=1
  fi
  ((crashes == 0)) || crashed=1
  summary+=("$(printf '%-14s %12s execs %8s exec/s %3d crashes' "$target" "${execs:-?}" "${rate:-?}" "$crashes")")
  printf '%s\n' "${summary[-1]}" >&2
  ((crashes == 0)) || grep -E 'panicked|ERROR|Test unit written' "$log" >&2 || true
done
printf '\n%s\n' "${summary[@]}"
exit "$crashed"
