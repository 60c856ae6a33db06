# syntax=docker/dockerfile:1
#
# memvox: one image, six binaries.
#
#   memvox                      `serve` (everything in one process, the default CMD), `migrate`,
#                               `healthcheck URL`, `wait-for URL...`, dead-letter tools, ...
#   memvox-gateway              POST /webhook/post-call
#   memvox-query                memory-query tool, conversation-init webhook, /v1 REST API, MCP,
#                               the custom-LLM proxy when enabled
#   memvox-llm-proxy            the custom-LLM proxy alone (POST /llm/v1/chat/completions)
#   memvox-extraction-worker    events stream  -> memories
#   memvox-embedding-worker     memories stream -> vectors, links, summaries
#
# Stages: `chef` (toolchain + cargo-chef) -> `planner` (dependency recipe) -> `builder` (dependencies
# cached in their own layer, then the workspace) -> `runtime` (debian slim, non-root, no shell tools
# needed: the health check is the binary itself).
#
#   docker build -t memvox:dev .
#   docker run --rm -p 8080:8080 memvox:dev            # embedded mode: SQLite under /app/data

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm
ARG CARGO_CHEF_VERSION=0.1.78

# ---------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /build

# ---------------------------------------------------------------------------------------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# ---------------------------------------------------------------------------------------------
FROM chef AS builder
ENV CARGO_TERM_COLOR=never
COPY --from=planner /build/recipe.json recipe.json
# Dependencies only: this layer is reused until Cargo.toml / Cargo.lock change.
RUN cargo chef cook --release --locked --recipe-path recipe.json \
      -p memvox -p memvox-gateway -p memvox-query \
      -p memvox-extraction-worker -p memvox-embedding-worker
COPY . .
RUN cargo build --release --locked \
      -p memvox -p memvox-gateway -p memvox-query \
      -p memvox-extraction-worker -p memvox-embedding-worker \
 && mkdir -p /out/bin \
 && cp target/release/memvox target/release/memvox-gateway target/release/memvox-query \
       target/release/memvox-llm-proxy \
       target/release/memvox-extraction-worker target/release/memvox-embedding-worker /out/bin/

# ---------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

# ca-certificates: TLS to OpenAI-compatible endpoints. Nothing else is needed at run time.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 memvox \
 && useradd --system --uid 10001 --gid memvox --home-dir /app --shell /usr/sbin/nologin memvox \
 && mkdir -p /app/data /app/models \
 && chown -R memvox:memvox /app/data

WORKDIR /app
COPY --from=builder /out/bin/ /usr/local/bin/
COPY models/static-minilm-256/ /app/models/static-minilm-256/

ENV MEMVOX_HTTP__LISTEN=0.0.0.0:8080 \
    MEMVOX_EMBEDDER__MODEL_PATH=/app/models/static-minilm-256 \
    MEMVOX_LOG__FORMAT=json

USER 10001:10001
EXPOSE 8080
VOLUME ["/app/data"]

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["memvox", "healthcheck", "http://127.0.0.1:8080/health/ready"]

# Stop with SIGTERM: readiness turns 503, HTTP drains for MEMVOX_HTTP__SHUTDOWN_GRACE_MS, workers
# leave unacked work to be reclaimed.
STOPSIGNAL SIGTERM
ENTRYPOINT []
CMD ["memvox", "serve"]
