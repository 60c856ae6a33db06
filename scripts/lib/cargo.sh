# Sourced by the scripts that build and test the workspace (test.sh, test-mcp-client.sh through
# serve.sh, test-inspector.sh, validate-deploy.sh): one build serves the lints, the tests and the
# binaries the outside clients drive.

# lint_while_building: from now on the workspace's own crates compile through clippy-driver with
# warnings denied — what `cargo clippy --all-targets -- -D warnings` checks, in the same compilation
# that builds the tests. `cargo clippy` type-checks the whole dependency tree a second time in its
# own mode (5½ of CI's 14 minutes cold); compiling once with the lints on costs seconds. Dependencies
# still compile with plain rustc (cargo only wraps workspace members). Every later cargo command in
# the script must run with the same two variables, or it rebuilds the workspace's crates.
lint_while_building() {
  RUSTC_WORKSPACE_WRAPPER="$(command -v clippy-driver)" \
    || { echo "clippy-driver not found: install the toolchain's clippy component" >&2; return 1; }
  export RUSTC_WORKSPACE_WRAPPER
  # clippy-driver's own way of taking lint flags (what `cargo clippy -- -D warnings` passes it).
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
}

# build_binaries: builds the workspace's binaries (target/debug/memvox, memvox-gateway, …) exactly as
# `cargo test --workspace` builds them. `cargo build -p memvox` would resolve features for that
# package alone — without the test dependencies' features — and so compile a second copy of much of
# the dependency tree after the test suite's build.
build_binaries() {
  cargo test --workspace --locked --no-run -q
}
