//! `memvox-llm-proxy`: the custom-LLM proxy on its own, to scale it apart from the query
//! service (it holds an upstream connection for every turn being generated).
//!
//! Reads the query service's configuration (the proxy is `[query.llm_proxy]`; finding callers
//! and their memories also needs the store, the embedder, the caches and `[identity]`), refuses
//! to start unless `query.llm_proxy.enabled` is on, and serves `POST /llm/v1/chat/completions`
//! with health and metrics endpoints, as `memvox-query` serves its routes
//! ([`memvox_query::serve`]).

use anyhow::ensure;
use memvox_query::{llm_proxy, serve};
use memvox_runtime::Service;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let enabled = |config: &memvox_query::QueryConfig| {
        ensure!(
            config.query.llm_proxy.enabled,
            "memvox-llm-proxy serves only the custom-LLM proxy, which is off: set \
             query.llm_proxy.enabled = true (MEMVOX_QUERY__LLM_PROXY__ENABLED=true) and its \
             upstream_url"
        );
        Ok(())
    };
    serve::serve(Service::LlmProxy, enabled, llm_proxy::standalone_router).await
}
